import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchRow } from '../lib/context.ts';
import { SIZES } from '../lib/context.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

/**
 * Proves the harness works end to end at tiny sizes (`pnpm bench --tiny`): the real collector
 * process fed by load generator processes over HTTP and gRPC, the COPY baselines, the queries
 * through the query API and an alert email through a real SMTP server. It asserts that every
 * section reported, every line has its baseline and ratio, and what the harness checks in the
 * database held (counts exact); it asserts no speed.
 */
describe('pnpm bench --tiny', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-bench-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one table and writes the results file with every section', async () => {
    const out = join(dir, 'results.json');
    const { stdout } = await run(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'bench/run.ts', '--tiny', '--silent', `--out=${out}`], { cwd: root, timeout: 170_000, killSignal: 'SIGKILL' });
    const report = JSON.parse(readFileSync(out, 'utf8')) as { mode: string; rows: BenchRow[] };
    expect(report.mode).toBe('tiny');
    const sections = new Set(report.rows.map((r) => r.section));
    expect([...sections].sort()).toEqual(['alert', 'copy', 'ingest', 'queries', 'rootcause', 'ui', 'writer']);
    for (const r of report.rows) {
      expect(r.baseline, r.name).not.toBe('');
      expect(stdout).toContain(r.name);
    }
    const throughput = report.rows.filter((r) => r.unit === 'spans/s');
    for (const r of throughput) expect(r.value, r.name).toBeGreaterThan(0);
    // Every ingest configuration acknowledged spans, and the database counted each exactly once.
    const ingest = report.rows.filter((r) => r.section === 'ingest' && r.unit === 'spans/s');
    expect(ingest.map((r) => r.name.split(':')[0])).toEqual(['OTLP/HTTP sampling 1.0', 'OTLP/gRPC sampling 0.1']);
    for (const r of ingest) {
      expect(r.extra?.sessions_and_snapshots_exact, r.name).toBe(true);
      expect(r.ratio, r.name).toBeGreaterThan(0);
    }
    expect(ingest[0]!.extra?.stored_share).toBe(1);
    expect(Number(ingest[1]!.extra?.stored_share)).toBeLessThan(1);
    const queries = report.rows.filter((r) => r.section === 'queries' && r.unit === 'ms');
    expect(queries).toHaveLength(7);
    for (const r of queries) expect(Number.isFinite(r.ratio)).toBe(true);
    const jaeger = queries.filter((r) => r.name.includes('Jaeger'));
    expect(jaeger.map((r) => r.name.replace(/^.*: /, ''))).toEqual([
      'Jaeger search by service and tag p99', 'Jaeger search by service and rare tag p99', 'Jaeger search by service and common tag p99',
    ]);
    for (const r of jaeger) expect(Number.isFinite(Number(r.extra?.traces_per_answer)), r.name).toBe(true);
    // Root cause: the analysis found the injected slow INSERT; ingest ran with and without
    // baselines, and the switch did what it says (operation_stats exact with, empty without).
    const [analysis, baselines] = report.rows.filter((r) => r.section === 'rootcause');
    expect(analysis!.unit).toBe('ms');
    expect(analysis!.extra?.top_suspect_is_injected).toBe(true);
    expect(Number.isFinite(analysis!.ratio)).toBe(true);
    expect(baselines!.unit).toBe('spans/s');
    expect(baselines!.ratio).toBeGreaterThan(0);
    expect(baselines!.extra).toMatchObject({ operation_stats_exact_with: true, operation_stats_empty_without: true });
    const alert = report.rows.find((r) => r.section === 'alert')!;
    expect(alert.extra?.runs).toBe(SIZES.tiny.alertRuns);
    expect(alert.value).toBeGreaterThan(0);
  }, 180_000);
});
