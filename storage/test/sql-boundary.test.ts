import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * SQL lives in storage/ only: every other package calls storage's typed readers and writers.
 * This test reads the source of every other package (tests aside: they may set up fixtures)
 * and fails on anything that looks like a SQL statement or a raw query call.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Folders allowed to hold SQL outside storage/, each with its reason. */
const ALLOWED: Record<string, string> = {
  // The benchmarks measure storage against PostgreSQL's own limits (raw COPY, TRUNCATE between
  // runs, bulk fixture loads): their baselines must bypass storage. They are not a process.
  'bench/': 'benchmark baselines and fixtures',
  // The demo shop is a user's application with its own database (its inventory), not flowscope.
  'examples/': 'the demo shop\'s own database',
};

const SQL_PATTERNS: [string, RegExp][] = [
  ['SELECT … FROM', /\bSELECT\s+(?:DISTINCT\s+)?[\w*(][^;`]*?\bFROM\s+[\w(]/],
  ['INSERT INTO', /\bINSERT\s+INTO\b/],
  ['UPDATE … SET', /\bUPDATE\s+\w+\s+SET\b/],
  ['DELETE FROM', /\bDELETE\s+FROM\b/],
  ['DDL', /\b(?:CREATE|ALTER|DROP)\s+(?:TABLE|INDEX|DATABASE|SCHEMA)\b/],
  ['COPY', /\bCOPY\s+\w+\s*\(/],
  ['advisory lock', /\bpg_advisory\w*\(/],
  ['raw query call', /\.(?:query|unsafe|exec)\s*(?:<[^>]*>)?\(\s*[`'"]/],
  ['tagged sql template', /\bsql`/],
];

export function sqlFindings(text: string): string[] {
  return SQL_PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.') || e.name === 'test') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (/\.(?:[cm]?[jt]sx?)$/.test(e.name) && !/\.test\.[jt]sx?$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('SQL boundary', () => {
  it('the detector flags SQL and raw query calls, and leaves prose and PromQL alone', () => {
    expect(sqlFindings('await db.query(`SELECT id FROM alerts WHERE state = $1`, [s])')).toEqual(['SELECT … FROM', 'raw query call']);
    expect(sqlFindings("x.unsafe('UPDATE email_outbox SET status = 1')")).toEqual(['UPDATE … SET', 'raw query call']);
    expect(sqlFindings('INSERT INTO t (a) VALUES (1)')).toEqual(['INSERT INTO']);
    expect(sqlFindings('// select the spans from the trace; sum(rate(x_count[5m])) by (layer)')).toEqual([]);
    expect(sqlFindings("name: 'SELECT orders'")).toEqual([]);
  });

  it('no SQL in any package but storage (source files; tests may set up fixtures)', () => {
    const files = sourceFiles(ROOT)
      .map((f) => relative(ROOT, f).split('\\').join('/'))
      .filter((f) => !f.startsWith('storage/') && !Object.keys(ALLOWED).some((dir) => f.startsWith(dir)));
    expect(files.length).toBeGreaterThan(30);
    expect(files).toContain('query-api/src/routes/workflows.ts');
    const offenders = files.flatMap((f) => {
      const found = sqlFindings(readFileSync(join(ROOT, f), 'utf8'));
      return found.length > 0 ? [`${f}: ${found.join(', ')}`] : [];
    });
    expect(offenders).toEqual([]);
  });
});
