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

/**
 * A histogram as a PostgreSQL array literal of its non-zero range with explicit bounds
 * ('[36:41]={2,0,1,4,1,2}', 1-based like the dense arrays; '{}' when empty): a pending row holds
 * about a tenth of the dense arrays' text.
 */
export function trimmedArray(counts: readonly number[]): string {
  let lo = 0;
  while (lo < counts.length && counts[lo] === 0) lo++;
  if (lo === counts.length) return '{}';
  let hi = counts.length - 1;
  while (counts[hi] === 0) hi--;
  return `[${lo + 1}:${hi + 1}]={${counts.slice(lo, hi + 1).join(',')}}`;
}

/** Dense counts from an array literal, dense ('{0,3,…}') or trimmed ('[36:41]={2,0,…}'). */
export function countsOf(literal: string): number[] {
  const out = new Array<number>(BUCKET_COUNT).fill(0);
  let from = 0;
  let body = literal;
  if (literal.startsWith('[')) {
    const eq = literal.indexOf('=');
    from = Number(literal.slice(1, literal.indexOf(':'))) - 1;
    body = literal.slice(eq + 1);
  }
  if (body.length <= 2) return out;
  const values = body.slice(1, -1).split(',');
  for (let i = 0; i < values.length; i++) out[from + i] = Number(values[i]);
  return out;
}

/** Adds an array literal's counts (dense '{0,3,…}' or trimmed '[36:41]={2,0,…}') into `into`. */
export function addCounts(into: number[], literal: string): void {
  let i = 0;
  let at = 0;
  if (literal.charCodeAt(0) === 91 /* [ */) {
    at = Number(literal.slice(1, literal.indexOf(':'))) - 1;
    i = literal.indexOf('=') + 1;
  }
  let n = 0;
  let digits = false;
  for (i += 1; i < literal.length; i++) {
    const c = literal.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      digits = true;
    } else if (c === 44 /* , */ || c === 125 /* } */) {
      if (digits) into[at] = (into[at] ?? 0) + n;
      at++;
      n = 0;
      digits = false;
    }
  }
}
