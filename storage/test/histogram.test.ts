import { describe, expect, it } from 'vitest';
import { BUCKET_BOUNDS_MS, BUCKET_COUNT, bucketIndex, emptyBuckets, mergeBuckets, quantile } from '../src/histogram.ts';

describe('histogram', () => {
  it.each([
    ['below the first bound', 0.001, 0],
    ['zero', 0, 0],
    ['exactly the first bound', BUCKET_BOUNDS_MS[0]!, 0],
    ['just above the first bound', BUCKET_BOUNDS_MS[0]! * 1.0001, 1],
    ['exactly 1 ms', 1, BUCKET_BOUNDS_MS.indexOf(1)],
    ['exactly 100 ms is in the bucket whose upper bound is ≥ 100', 100, BUCKET_BOUNDS_MS.findIndex((b) => b >= 100)],
    ['above the last bound', 1e9, BUCKET_COUNT - 1],
  ])('bucketIndex: %s', (_name, value, expected) => {
    expect(bucketIndex(value)).toBe(expected);
  });

  it('every value falls in a bucket whose bounds contain it', () => {
    for (let v = 0.07; v < 3e6; v *= 1.037) {
      const i = bucketIndex(v);
      if (i < BUCKET_BOUNDS_MS.length) expect(v).toBeLessThanOrEqual(BUCKET_BOUNDS_MS[i]!);
      if (i > 0) expect(v).toBeGreaterThan(BUCKET_BOUNDS_MS[i - 1]!);
    }
  });

  it('quantiles of a known distribution are within 10 %', () => {
    const b = emptyBuckets();
    const values = Array.from({ length: 1000 }, (_, i) => i + 1); // 1..1000 ms
    for (const v of values) b[bucketIndex(v)]! += 1;
    for (const [q, truth] of [
      [0.5, 500],
      [0.95, 950],
      [0.99, 990],
    ] as const) {
      const est = quantile(b, q, 1, 1000)!;
      expect(Math.abs(est - truth) / truth).toBeLessThan(0.1);
    }
  });

  it('quantile of an empty histogram is null; a single value is returned exactly via min/max', () => {
    expect(quantile(emptyBuckets(), 0.5)).toBeNull();
    const b = emptyBuckets();
    b[bucketIndex(42)] = 3;
    expect(quantile(b, 0.99, 42, 42)).toBe(42);
  });

  it('merges bucket arrays, including text from the database', () => {
    const a = emptyBuckets();
    a[3] = 1;
    mergeBuckets(a, ['0', '0', '0', '2']);
    expect(a[3]).toBe(3);
  });
});
