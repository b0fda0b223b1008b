import { expect } from 'vitest';
import { BUCKET_COUNT, snapshotSeries, type Queryable, type SnapshotDelta, type SnapshotGroup } from '../src/index.ts';

// Snapshot deltas and the series they must give, in plain code (roll-up and pending-row tests).
const MIN = 60_000;

export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const TYPES = ['checkout', 'login'];
const LAYERS = ['api', 'database'];

/** Deltas over three hours and a bit from h0, several per minute and scope (so upserts add up). */
export function snapshotDeltas(h0: number, seed = 5): SnapshotDelta[] {
  const rand = prng(seed);
  const out: SnapshotDelta[] = [];
  for (let i = 0; i < 400; i++) {
    const buckets = new Array<number>(BUCKET_COUNT).fill(0);
    const n = 1 + Math.floor(rand() * 5);
    for (let k = 0; k < n; k++) buckets[Math.floor(rand() * BUCKET_COUNT)]! += 1;
    const min = Math.round(rand() * 100);
    out.push({
      bucketStartMs: h0 + Math.floor(rand() * 200) * MIN,
      workflowType: TYPES[Math.floor(rand() * 2)]!,
      layer: LAYERS[Math.floor(rand() * 2)]!,
      component: rand() < 0.5 ? 'a' : 'b',
      metric: 'duration_ms',
      count: n,
      errorCount: rand() < 0.2 ? 1 : 0,
      sum: n * (min + 5),
      min,
      max: min + 10,
      buckets,
    });
  }
  return out;
}

/** What the series must hold: the deltas summed per step (and group) in plain code. */
export function expected(ds: SnapshotDelta[], fromMs: number, toMs: number, stepS: number, groupBy: SnapshotGroup[], workflowType?: string) {
  const out = new Map<string, { n: number; errors: number; total: number; min: number; max: number; hist: Map<number, number> }>();
  for (const d of ds) {
    if (d.bucketStartMs < fromMs || d.bucketStartMs >= toMs || (workflowType && d.workflowType !== workflowType)) continue;
    const t = Math.floor(d.bucketStartMs / (stepS * 1000)) * stepS;
    const labels = { workflow_type: d.workflowType, layer: d.layer, component: d.component };
    const k = JSON.stringify([t, ...groupBy.map((g) => labels[g])]);
    const c = out.get(k) ?? { n: 0, errors: 0, total: 0, min: Infinity, max: -Infinity, hist: new Map<number, number>() };
    c.n += d.count;
    c.errors += d.errorCount;
    c.total += d.sum;
    c.min = Math.min(c.min, d.min);
    c.max = Math.max(c.max, d.max);
    d.buckets.forEach((b, i) => b && c.hist.set(i + 1, (c.hist.get(i + 1) ?? 0) + b));
    out.set(k, c);
  }
  return [...out].map(([k, c]) => [k, c.n, c.errors, c.total, c.min, c.max, [...c.hist].sort((a, b) => a[0] - b[0])]).sort();
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The series of [from, to) by `step` seconds read from the database equals expected() of the deltas. */
export async function expectSeries(db: Queryable, ds: SnapshotDelta[], from: number, to: number, step: number, groupBy: SnapshotGroup[], workflowType?: string) {
  const { cells, buckets } = await snapshotSeries(db, { metric: 'duration_ms', fromIso: iso(from), toIso: iso(to), stepSeconds: step, groupBy, workflow_type: workflowType });
  const key = (r: { t: number } & Partial<Record<SnapshotGroup, string>>) => JSON.stringify([Number(r.t), ...groupBy.map((g) => r[g])]);
  const hist = new Map<string, [number, number][]>();
  for (const b of buckets) hist.set(key(b), [...(hist.get(key(b)) ?? []), [Number(b.i), Number(b.n)]]);
  const got = cells
    .map((c) => [key(c), Number(c.n), Number(c.errors), Number(c.total), Number(c.min), Number(c.max), (hist.get(key(c)) ?? []).sort((a, b) => a[0] - b[0])])
    .sort();
  expect(got, `${iso(from)}..${iso(to)} step ${step} by ${groupBy.join(',')}`).toEqual(expected(ds, from, to, step, groupBy, workflowType));
  expect(got.length).toBeGreaterThan(0);
}
