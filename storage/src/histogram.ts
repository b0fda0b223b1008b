/**
 * The fixed exponential histogram of performance_snapshots.buckets.
 *
 * Bucket i (0 ≤ i < BOUNDS.length) counts values v with BOUNDS[i-1] < v ≤ BOUNDS[i]
 * (BOUNDS[-1] taken as 0); the last bucket (index BOUNDS.length) counts values above the
 * last bound. Bounds grow by 2^(1/4) (≈19 %) from 1/16 ms to ~35 minutes, so a quantile
 * read from merged buckets is within about ±10 % of the true value. The bounds are part of
 * the stored format: never change them in place; add a new metric name instead.
 */
const GROWTH = 2 ** 0.25;
const FIRST_EXP = -16; // 2^(-16/4) = 0.0625 ms
const LAST_EXP = 84; // 2^(84/4) = 2,097,152 ms

export const BUCKET_BOUNDS_MS: readonly number[] = Array.from(
  { length: LAST_EXP - FIRST_EXP + 1 },
  (_, i) => 2 ** ((FIRST_EXP + i) / 4),
);

export const BUCKET_COUNT = BUCKET_BOUNDS_MS.length + 1;

/** Index of the bucket that counts `valueMs`. */
export function bucketIndex(valueMs: number): number {
  if (!(valueMs > BUCKET_BOUNDS_MS[0]!)) return 0;
  // log base 2^(1/4), then correct for floating-point rounding at the bounds.
  let i = Math.ceil(Math.log2(valueMs) * 4) - FIRST_EXP;
  if (i > 0 && valueMs <= BUCKET_BOUNDS_MS[i - 1]!) i -= 1;
  else if (i < BUCKET_BOUNDS_MS.length && valueMs > BUCKET_BOUNDS_MS[i]!) i += 1;
  return Math.min(Math.max(i, 0), BUCKET_BOUNDS_MS.length);
}

export function emptyBuckets(): number[] {
  return new Array<number>(BUCKET_COUNT).fill(0);
}

/** Adds `b` into `a` (same length) and returns `a`. */
export function mergeBuckets(a: number[], b: readonly (number | string)[]): number[] {
  for (let i = 0; i < a.length && i < b.length; i++) a[i]! += Number(b[i]);
  return a;
}

/**
 * The q-quantile (0 < q ≤ 1) of the values counted in `buckets`, interpolated geometrically
 * inside the bucket it falls in and clamped to the observed [min, max] when known.
 * Returns null for an empty histogram.
 */
export function quantile(buckets: readonly number[], q: number, min?: number | null, max?: number | null): number | null {
  const total = buckets.reduce((s, c) => s + c, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = buckets[i]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const upper = i < BUCKET_BOUNDS_MS.length ? BUCKET_BOUNDS_MS[i]! : (max ?? BUCKET_BOUNDS_MS.at(-1)! * GROWTH);
      const lower = i === 0 ? Math.min(upper, min ?? upper / GROWTH) : BUCKET_BOUNDS_MS[i - 1]!;
      const fraction = (rank - seen) / c;
      let v = lower > 0 ? lower * (upper / lower) ** fraction : upper * fraction;
      if (min !== undefined && min !== null) v = Math.max(v, min);
      if (max !== undefined && max !== null) v = Math.min(v, max);
      return v;
    }
    seen += c;
  }
  return max ?? null;
}
