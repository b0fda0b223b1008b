import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { SoakResult } from '../soak/run.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

/**
 * `pnpm soak --small`: the soak suite at small sizes, in the test command. The real collector
 * and alerting worker processes through collector kill -9 (twice), a PostgreSQL restart and
 * stop, Redis stop, a held table lock and SMTP down, then every kind of seeded hostile input.
 * The bar of issue 13: no acknowledged span lost, no 5xx, no crash, every fault survived, the
 * in-flight memory budget back to 0 and ingest working after every kind, each alert email
 * delivered once. `pnpm soak` runs the same suite at full size.
 */
describe('pnpm soak --small', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-soak-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses nothing acknowledged, answers no 5xx, never crashes, and survives every fault and every kind of bad input', async () => {
    const out = join(dir, 'soak.json');
    // exit 1 (a failed bar) still writes the results, which the assertions below explain
    await run(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'bench/soak/run.ts', '--small', '--silent', `--out=${out}`], {
      cwd: root,
      timeout: 400_000,
    }).catch((err: { code?: number }) => {
      if (err.code !== 1) throw err;
    });
    const r = JSON.parse(readFileSync(out, 'utf8')) as SoakResult;
    expect(r.mode).toBe('small');
    expect(r.spans.acknowledged).toBeGreaterThan(0);
    expect(r.spans.lost).toBe(0);
    expect(r.fiveXX).toBe(0);
    expect(r.crashes).toBe(0);
    expect(r.faults.map((f) => f.name)).toEqual([
      'collector kill -9',
      'PostgreSQL restart (connections terminated)',
      'PostgreSQL stop',
      'Redis stop',
      'slow database (ACCESS EXCLUSIVE lock on trace_steps held)',
      'collector kill -9 (second)',
      'SMTP down (alert email delivered once after)',
    ]);
    for (const f of r.faults) expect(f.survived, `${f.name}: ${f.detail}`).toBe(true);
    expect(r.emails.delivered).toBeGreaterThan(0);
    expect(r.emails.duplicates).toBe(0);
    expect(r.emails.sentRows).toBe(r.emails.outboxRows);
    expect(r.inputs.length).toBeGreaterThanOrEqual(15);
    for (const i of r.inputs) {
      expect(i.tried, i.kind).toBeGreaterThan(0);
      expect(i.fiveXX, i.kind).toBe(0);
      expect(i.inflightAfter, i.kind).toBe(0);
      expect(i.ingestAfter, i.kind).toBe(true);
    }
    expect(r.badInputsTried).toBeGreaterThanOrEqual(500);
    expect(r.ok).toBe(true);
  }, 420_000);
});
