import { describe, expect, it } from 'vitest';
import { addDelta, bucketIndex, emptyBuckets, rollUp, type SnapshotDelta } from '../src/index.ts';

const delta = (bucketStartMs: number, values: number[], over: Partial<SnapshotDelta> = {}): SnapshotDelta => {
  const buckets = emptyBuckets();
  for (const v of values) buckets[bucketIndex(v)]! += 1;
  return {
    bucketStartMs, workflowType: 'checkout', layer: 'api', component: 'api-gateway', metric: 'duration_ms',
    count: values.length, errorCount: 0, sum: values.reduce((s, v) => s + v, 0), min: Math.min(...values), max: Math.max(...values), buckets,
    ...over,
  };
};

describe('snapshot deltas', () => {
  it('addDelta adds counts, sums and buckets and widens min/max', () => {
    const into = delta(0, [10, 20], { errorCount: 1 });
    addDelta(into, delta(0, [5, 400], { errorCount: 2 }));
    expect([into.count, into.errorCount, into.sum, into.min, into.max]).toEqual([4, 3, 435, 5, 400]);
    expect(into.buckets).toEqual(delta(0, [10, 20, 5, 400]).buckets);
  });

  it('rollUp sums the minutes of a bucket per key, leaves its input alone', () => {
    const minutes = [delta(60_000, [10]), delta(120_000, [30]), delta(120_000, [7], { layer: 'database' }), delta(300_000, [50])];
    const copy = structuredClone(minutes);
    const rolled = rollUp(minutes, 300);
    expect(rolled.map((d) => [d.bucketStartMs, d.layer, d.count, d.sum, d.min, d.max])).toEqual([
      [0, 'api', 2, 40, 10, 30],
      [0, 'database', 1, 7, 7, 7],
      [300_000, 'api', 1, 50, 50, 50],
    ]);
    expect(rolled[0]!.buckets).toEqual(delta(0, [10, 30]).buckets);
    expect(minutes).toEqual(copy);
  });
});
