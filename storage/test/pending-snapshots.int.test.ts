import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT, applyFlushCounts, countPendingSnapshots, foldPendingSnapshots, healthCounts, parsePendingSnapshots, pendingSnapshotRows,
  snapshotsInWindow, writePendingSnapshotDeltas, writeSnapshotDeltas, type Database, type SnapshotDelta, type SnapshotGroup,
} from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { expectSeries, snapshotDeltas } from './snapshot-fixtures.ts';

// Issue 12 (ingest at sampling 0.1): a flush records its snapshot minute deltas as pending rows
// (one per workflow type) instead of upserting minute and roll-up rows; folds move pending rows
// into performance_snapshots and performance_rollups. Readers (series, alert windows, health)
// count pending rows, so every answer is the same before, during and after folding, and the
// folded tables hold what writing every delta directly would have written.
const MIN = 60_000;
const HOUR = 3_600_000;
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

const CASES: [number, number, number, SnapshotGroup[], string?][] = [
  [H0, H0 + 4 * HOUR, 300, []], // five-minute roll-ups and pending rows
  [H0, H0 + 4 * HOUR, 3600, ['workflow_type']], // hour roll-ups
  [H0, H0 + 2 * HOUR + 17 * MIN, 7200, ['layer', 'component']], // hour roll-ups, a minute tail
  [H0, H0 + 3 * HOUR + 7 * MIN, 900, [], 'login'], // a filter by workflow type
  [H0 + MIN, H0 + 2 * HOUR, 120, ['component']], // minutes only
];

/** What snapshotsInWindow must add up to: counts and buckets of the deltas in (from, to] matching `layer`. */
function windowTotals(ds: readonly SnapshotDelta[], from: number, to: number, layer?: string, workflowType?: string) {
  const buckets = new Array<number>(BUCKET_COUNT).fill(0);
  let count = 0;
  let errors = 0;
  let sum = 0;
  for (const d of ds) {
    if (d.bucketStartMs <= from || d.bucketStartMs > to || (layer && d.layer !== layer) || (workflowType && d.workflowType !== workflowType)) continue;
    count += d.count;
    errors += d.errorCount;
    sum += d.sum;
    d.buckets.forEach((b, i) => (buckets[i]! += b));
  }
  return { count, errors, sum, buckets };
}

async function readWindow(db: Database, from: number, to: number, layer?: string, workflowType?: string) {
  const rows = await snapshotsInWindow(db, { metric: 'duration_ms', fromIso: iso(from), toIso: iso(to), scope: { layer, workflow_type: workflowType } });
  const buckets = new Array<number>(BUCKET_COUNT).fill(0);
  let count = 0;
  let errors = 0;
  let sum = 0;
  for (const r of rows) {
    expect(r.buckets).toHaveLength(BUCKET_COUNT);
    count += r.count;
    errors += r.error_count;
    sum += r.sum;
    r.buckets.forEach((b, i) => (buckets[i]! += b));
  }
  return { count, errors, sum, buckets };
}

describe('pending snapshot rows: the format', () => {
  it('round trip: one text per workflow type, trimmed histograms, the deltas summed per minute and key', () => {
    const ds = snapshotDeltas(H0, 11);
    const [types, texts] = pendingSnapshotRows(ds);
    expect(types).toEqual(['checkout', 'login']);
    expect(texts[0]).toMatch(/"b":"\[\d+:\d+\]=\{[0-9,]+\}"/);
    const back = parsePendingSnapshots(types.map((t, i) => ({ workflow_type: t, deltas: texts[i]! })));
    const merged = new Map<string, SnapshotDelta>();
    for (const d of ds) {
      const k = [d.bucketStartMs, d.workflowType, d.layer, d.component, d.metric].join('|');
      const m = merged.get(k);
      if (!m) merged.set(k, { ...d, buckets: [...d.buckets] });
      else {
        m.count += d.count;
        m.errorCount += d.errorCount;
        m.sum += d.sum;
        m.min = Math.min(m.min, d.min);
        m.max = Math.max(m.max, d.max);
        d.buckets.forEach((b, i) => (m.buckets[i]! += b));
      }
    }
    const byKey = (a: SnapshotDelta, b: SnapshotDelta) => `${a.bucketStartMs}|${a.workflowType}|${a.layer}|${a.component}`.localeCompare(`${b.bucketStartMs}|${b.workflowType}|${b.layer}|${b.component}`);
    expect([...back].sort(byKey)).toEqual([...merged.values()].sort(byKey));
    expect(back.length).toBeLessThan(ds.length);
  });
});

describe.each<Driver>(['postgres', 'pglite'])('pending snapshot rows on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const ds = snapshotDeltas(H0, 7);
  const direct = ds.slice(0, 150);
  const pending = ds.slice(150);

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    // Some deltas already in the tables (folded), the rest pending: through the flush statement
    // and through the writer function, in flushes of 50.
    for (let i = 0; i < direct.length; i += 50) await db.transaction((tx) => writeSnapshotDeltas(tx, direct.slice(i, i + 50)));
    for (let i = 0; i < pending.length; i += 50) {
      const part = pending.slice(i, i + 50);
      if (i % 100 === 0) await db.transaction((tx) => applyFlushCounts(tx, { receipts: [`r-${i}`], observations: [], snapshots: part, operations: [] }));
      else await db.transaction((tx) => writePendingSnapshotDeltas(tx, part));
    }
  });
  afterAll(async () => dispose());

  const tables = () =>
    Promise.all(
      ['performance_snapshots', 'performance_rollups'].map((t) =>
        db.query<Record<string, unknown>>(
          `SELECT *, count::float8 AS count, error_count::float8 AS error_count, buckets::text AS buckets FROM ${t} ORDER BY 1, 2, 3, 4, 5, 6`,
        ),
      ),
    );

  it('readers count pending rows: series at every step and grouping, alert windows, as if every delta were folded', async () => {
    expect(await countPendingSnapshots(db)).toBeGreaterThanOrEqual(pending.length / 50);
    const [minutes] = await tables();
    expect(minutes!.reduce((s, r) => s + Number(r.count), 0)).toBe(direct.reduce((s, d) => s + d.count, 0));
    for (const c of CASES) await expectSeries(db, ds, ...c);
    for (const [from, to, layer, type] of [[H0 + 30 * MIN, H0 + 150 * MIN, 'api', undefined], [H0 - MIN, H0 + 4 * HOUR, undefined, 'checkout']] as const) {
      const got = await readWindow(db, from, to, layer, type);
      expect(got).toEqual(windowTotals(ds, from, to, layer, type));
      expect(got.count).toBeGreaterThan(0);
    }
  });

  it('a reader filtered by workflow type never parses another type’s pending rows', async () => {
    await db.query(`INSERT INTO performance_snapshots_pending (workflow_type, deltas) VALUES ('search', 'not json')`);
    try {
      await expectSeries(db, ds, H0, H0 + 4 * HOUR, 300, [], 'login');
      expect((await readWindow(db, H0, H0 + 4 * HOUR, undefined, 'login')).count).toBe(windowTotals(ds, H0, H0 + 4 * HOUR, undefined, 'login').count);
      await expect(readWindow(db, H0, H0 + 4 * HOUR)).rejects.toThrow(/json/i);
    } finally {
      await db.query(`DELETE FROM performance_snapshots_pending WHERE workflow_type = 'search'`);
    }
  });

  it('folds move every pending row exactly once (two folds at once included); the tables then equal direct writes', async () => {
    const n = await countPendingSnapshots(db);
    const folded = await Promise.all([foldPendingSnapshots(db, 2), foldPendingSnapshots(db, 2)]);
    expect(folded[0]! + folded[1]!).toBe(Math.min(n, 4));
    for (const c of CASES) await expectSeries(db, ds, ...c); // mid-fold: some pending, some folded
    let more = 0;
    while ((more = await foldPendingSnapshots(db, 3)) > 0) expect(more).toBeLessThanOrEqual(3);
    expect(await countPendingSnapshots(db)).toBe(0);
    for (const c of CASES) await expectSeries(db, ds, ...c);
    const afterFold = await tables();
    await db.query('TRUNCATE performance_snapshots, performance_rollups');
    for (let i = 0; i < ds.length; i += 50) await db.transaction((tx) => writeSnapshotDeltas(tx, ds.slice(i, i + 50)));
    const directly = await tables();
    expect(afterFold[0]!.length).toBeGreaterThan(100);
    expect(afterFold).toEqual(directly);
  });

  it('health counts the spans of the last minutes that are still pending', async () => {
    const now = Math.floor(Date.now() / MIN) * MIN;
    const before = await healthCounts(db);
    const d = { ...snapshotDeltas(now, 3)[0]!, bucketStartMs: now, count: 7, errorCount: 2 };
    await db.transaction((tx) => writePendingSnapshotDeltas(tx, [d]));
    const after = await healthCounts(db);
    expect(after.spansLast5m - before.spansLast5m).toBe(7);
    expect(after.errorsLast5m - before.errorsLast5m).toBe(2);
    await foldPendingSnapshots(db, 10);
    expect((await healthCounts(db)).spansLast5m).toBe(after.spansLast5m);
  });
});
