import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { countPendingOperations, emptyBuckets, getWorkflow, readOperationStats, snapshotSeries, type Database, type OperationDelta, type SnapshotDelta, type SpanObservation } from '@flowscope/storage';
import { parseConfig } from '@flowscope/common';
import { collectorConfigShape } from '../src/config.ts';
import { openTestDatabase } from '@flowscope/storage/testing';
import { createCollectorMetrics } from '../src/metrics.ts';
import { GroupCommitWriter, type WriteItem } from '../src/writer.ts';

// Issue 12: a flush applies the counts of all its requests (receipts, sessions of kept and
// sampled-out spans, snapshot deltas) in one statement. When the flush also holds an exporter's
// retry of a request committed before, nothing of that request may be counted twice.
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 5 * MIN;

/** A request of `n` sampled-out spans of workflow `wf` (one root), with its counts and receipt. */
function sampledOut(wf: string, n: number, receipt: string): WriteItem {
  const observations: SpanObservation[] = [];
  for (let i = 0; i < n; i++) {
    const start = BigInt(T0 + i) * 1_000_000n;
    observations.push({ workflowId: wf, workflowType: 'checkout', userId: null, traceId: wf.padEnd(32, '0'), startUnixNano: start, endUnixNano: start + 1_000_000n, isError: false, isRoot: i === 0, kept: false });
  }
  const buckets = emptyBuckets();
  buckets[3] = n;
  const delta: SnapshotDelta = { bucketStartMs: T0, workflowType: 'checkout', layer: 'api', component: 'gw', metric: 'duration_ms', count: n, errorCount: 0, sum: n, min: 1, max: 1, buckets };
  return { spans: [], errors: [], observations, deltas: [delta], receipt };
}

describe('one statement of counts per flush', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('pglite'));
  });
  afterAll(async () => dispose());

  const counted = async () => {
    const { cells } = await snapshotSeries(db, { metric: 'duration_ms', fromIso: new Date(T0).toISOString(), toIso: new Date(T0 + MIN).toISOString(), stepSeconds: 60, groupBy: [] });
    return cells.reduce((s, c) => s + Number(c.n), 0);
  };

  it('sampled-out requests of one flush are counted once each; a retry in a later flush is counted not at all', async () => {
    // lingerMs holds the first flush open so all three requests join it.
    const writer = new GroupCommitWriter(db, { maxBatchSpans: 10_000, maxQueueSpans: 100_000, lingerMs: 200, retryAfterSeconds: 1 }, createCollectorMetrics(), pino({ level: 'silent' }));
    const first = await Promise.all([sampledOut('wf-a', 3, 'r-a'), sampledOut('wf-b', 4, 'r-b'), sampledOut('wf-c', 5, 'r-c')].map((i) => writer.submit(i)));
    expect(first.map((r) => r.duplicateRequest)).toEqual([false, false, false]);
    expect(await counted()).toBe(12);
    expect([(await getWorkflow(db, 'wf-a'))?.span_count, (await getWorkflow(db, 'wf-b'))?.stored, (await getWorkflow(db, 'wf-c'))?.status]).toEqual([3, false, 'completed']);

    // A new request and a retry of wf-b's request in one flush: only the new one counts.
    const second = await Promise.all([sampledOut('wf-d', 2, 'r-d'), sampledOut('wf-b', 4, 'r-b')].map((i) => writer.submit(i)));
    expect(second.map((r) => r.duplicateRequest)).toEqual([false, true]);
    expect(await counted()).toBe(14);
    expect([(await getWorkflow(db, 'wf-b'))?.span_count, (await getWorkflow(db, 'wf-d'))?.span_count]).toEqual([4, 2]);
    await writer.close();
  });

  // Issue 10: per-operation deltas go into one pending row per flush; the writer folds pending
  // rows into operation_stats every foldIntervalMs and when it closes.
  const opItem = (receipt: string, n: number): WriteItem => {
    const buckets = emptyBuckets();
    buckets[40] = n;
    const op: OperationDelta = {
      bucketStartMs: T0, bucketSeconds: 60, workflowType: 'checkout', layer: 'database', component: 'orders-db', operation: 'INSERT shop.orders',
      count: n, errorCount: 0, sum: n, selfSum: n, min: 1, max: 1, buckets, selfBuckets: [...buckets],
    };
    return { ...sampledOut(`wf-${receipt}`, n, receipt), opDeltas: [op] };
  };
  const opsCounted = async () => (await readOperationStats(db, { fromMs: T0, toMs: T0 + MIN, resolution: 'minute' }))[0]?.count ?? 0;
  const folded = async () =>
    (await db.query<{ s: number; n: number }>('SELECT bucket_seconds AS s, sum(count)::int AS n FROM operation_stats GROUP BY 1 ORDER BY 1')).map((r) => [Number(r.s), Number(r.n)]);

  it('foldIntervalMs 0: a flush leaves one pending row, counted by readers; close() folds it into minute and hour rows', async () => {
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(db, { maxBatchSpans: 10_000, maxQueueSpans: 100_000, lingerMs: 100, retryAfterSeconds: 1, foldIntervalMs: 0, foldMaxRows: 1 }, metrics, pino({ level: 'silent' }));
    await Promise.all([opItem('o-1', 3), opItem('o-2', 4)].map((i) => writer.submit(i)));
    await writer.submit(opItem('o-3', 5));
    expect(await countPendingOperations(db)).toBe(2); // two flushes, one row each
    expect(await opsCounted()).toBe(12);
    expect(await folded()).toEqual([]);
    await writer.close(); // folds one row at a time (foldMaxRows 1) until none is left
    expect(await countPendingOperations(db)).toBe(0);
    expect(await opsCounted()).toBe(12);
    expect(await folded()).toEqual([[60, 12], [3600, 12]]);
    // one fold (of three transactions: 1 row, 1 row, none left), two rows, on /metrics
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^flowscope_baseline_folds_total\{result="ok"\} 1$/m);
    expect(text).toMatch(/^flowscope_baseline_folded_rows_total 2$/m);
    expect(text).toMatch(/^flowscope_baseline_fold_duration_seconds_count 1$/m);
  });

  it('foldIntervalMs > 0: pending rows are folded in the background while the writer runs', async () => {
    const writer = new GroupCommitWriter(db, { maxBatchSpans: 10_000, maxQueueSpans: 100_000, lingerMs: 0, retryAfterSeconds: 1, foldIntervalMs: 20, foldMaxRows: 1000 }, createCollectorMetrics(), pino({ level: 'silent' }));
    await writer.submit(opItem('o-4', 6));
    const deadline = Date.now() + 10_000;
    while ((await countPendingOperations(db)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await countPendingOperations(db)).toBe(0);
    expect(await folded()).toEqual([[60, 18], [3600, 18]]);
    await writer.close();
  });

  it('foldAfterRows: the writer folds as soon as it has written that many pending rows', async () => {
    const writer = new GroupCommitWriter(db, { maxBatchSpans: 10_000, maxQueueSpans: 100_000, lingerMs: 0, retryAfterSeconds: 1, foldIntervalMs: 0, foldAfterRows: 2 }, createCollectorMetrics(), pino({ level: 'silent' }));
    await writer.submit(opItem('o-5', 1));
    expect(await countPendingOperations(db)).toBe(1); // one row: below foldAfterRows, no timer
    await writer.submit(opItem('o-6', 2));
    const deadline = Date.now() + 10_000;
    while ((await countPendingOperations(db)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await countPendingOperations(db)).toBe(0);
    expect(await folded()).toEqual([[60, 21], [3600, 21]]);
    await writer.close();
  });

  it('the fold settings have explicit bounds', () => {
    const c = parseConfig(collectorConfigShape, {});
    expect([c.FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS, c.FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS, c.FLOWSCOPE_BASELINES_FOLD_MAX_ROWS]).toEqual([10_000, 20, 1000]);
    const edge = parseConfig(collectorConfigShape, { FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS: '10', FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS: '0', FLOWSCOPE_BASELINES_FOLD_MAX_ROWS: '1' });
    expect([edge.FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS, edge.FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS, edge.FLOWSCOPE_BASELINES_FOLD_MAX_ROWS]).toEqual([10, 0, 1]);
    expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS: '9' })).toThrow(/FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS/);
    expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS: '-1' })).toThrow(/FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS/);
    expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_BASELINES_FOLD_MAX_ROWS: '0' })).toThrow(/FLOWSCOPE_BASELINES_FOLD_MAX_ROWS/);
  });
});
