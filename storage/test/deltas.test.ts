import { describe, expect, it } from 'vitest';
import {
  addDelta, bucketIndex, emptyBuckets, foldedDeltas, operationDeltaKey, operationParam, parseOperationParam, pendingOperationParam, rollUp, withHourRows,
  type OperationDelta, type SnapshotDelta,
} from '../src/index.ts';

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

describe('per-operation pending rows: foldedDeltas', () => {
  const opDelta = (rand: () => number, minute: number): OperationDelta => {
    const buckets = emptyBuckets();
    const selfBuckets = emptyBuckets();
    const n = 1 + Math.floor(rand() * 5);
    const values = Array.from({ length: n }, () => rand() * 2000);
    for (const v of values) {
      buckets[bucketIndex(v)]! += 1;
      selfBuckets[bucketIndex(v / 3)]! += 1;
    }
    return {
      bucketStartMs: Date.UTC(2026, 0, 5, 10, 58) + minute * 60_000, bucketSeconds: 60,
      workflowType: ['checkout', 'login'][Math.floor(rand() * 2)]!, layer: ['api', 'database'][Math.floor(rand() * 2)]!,
      component: 'orders', operation: ['GET /a', 'SELECT 1', 'other'][Math.floor(rand() * 3)]!,
      count: n + 1, errorCount: 1, sum: values.reduce((a, b) => a + b, 0) + 3.25, selfSum: values.reduce((a, b) => a + b, 0) / 3,
      min: Math.min(...values), max: Math.max(...values), buckets, selfBuckets,
    };
  };

  it('equals withHourRows over parseOperationParam of every text (trimmed and dense literals, minutes across an hour)', () => {
    let a = 5;
    const rand = () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
    const minuteTexts = Array.from({ length: 12 }, () => pendingOperationParam(Array.from({ length: 30 }, () => opDelta(rand, Math.floor(rand() * 4)))));
    const denseText = operationParam([opDelta(rand, 1), opDelta(rand, 3)]); // dense literals, as an older writer sent
    const texts = [...minuteTexts, denseText];
    const want = withHourRows(texts.flatMap((t) => parseOperationParam(t)));
    const got = foldedDeltas(texts);
    const byKey = (ds: OperationDelta[]) => new Map(ds.map((d) => [operationDeltaKey(d), d]));
    expect(got).toHaveLength(want.length);
    const wantByKey = byKey(want);
    for (const d of got) {
      const w = wantByKey.get(operationDeltaKey(d))!;
      expect(w, operationDeltaKey(d)).toBeDefined();
      expect({ ...d, sum: 0, selfSum: 0 }).toEqual({ ...w, sum: 0, selfSum: 0 });
      expect(d.sum).toBeCloseTo(w.sum, 6);
      expect(d.selfSum).toBeCloseTo(w.selfSum, 6);
    }
    expect(new Set(got.map((d) => d.bucketSeconds))).toEqual(new Set([60, 3600])); // hour rows for two hours
    expect(new Set(got.filter((d) => d.bucketSeconds === 3600).map((d) => d.bucketStartMs)).size).toBe(2);
    expect(foldedDeltas([])).toEqual([]);
    expect(foldedDeltas(['[]'])).toEqual([]);
  });
});
