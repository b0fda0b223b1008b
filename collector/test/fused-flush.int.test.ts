import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { emptyBuckets, getWorkflow, snapshotSeries, type Database, type SnapshotDelta, type SpanObservation } from '@flowscope/storage';
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
});
