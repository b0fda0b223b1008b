import { describe, expect, it } from 'vitest';
import { bucketIndex, emptyBuckets, normalizeOperation, SNAPSHOT_METRICS, type SpanRecord } from '@flowscope/storage';
import { deriveSnapshotDeltas } from '../src/deltas.ts';
import { deriveOperationDeltas, OperationCatalog, selfTimesMs } from '../src/opstats.ts';

/**
 * The derive stage's two hot functions against plain reference versions (string keys, BigInt
 * arithmetic per span: what they were before they were made fast), on seeded random batches that
 * cross minute boundaries by nanoseconds, mix layers, kinds and errors, and reuse span ids
 * across traces.
 */
const NS = 1_000_000n;
const MINUTE_MS = 60_000;

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBatch(rand: () => number, n: number): SpanRecord[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  // near a minute boundary, to the nanosecond
  const boundary = BigInt(Date.UTC(2026, 0, 5, 11, 0, 0, 0)) * NS;
  const base = boundary - 1_500_000n;
  const spans: SpanRecord[] = [];
  for (let i = 0; i < n; i++) {
    const traceId = pick(['a', 'b', 'c']).repeat(32);
    const spanId = (i % 7 === 3 ? 5 : i).toString(16).padStart(16, '0'); // ids shared across traces
    const parent = i > 0 && rand() < 0.8 ? spans[Math.floor(rand() * i)]! : null;
    const start = parent ? parent.startUnixNano + BigInt(Math.floor(rand() * 3_000_000)) : i % 5 === 0 ? boundary - BigInt(i % 2) : base + BigInt(Math.floor(rand() * 3_000_000));
    const end = start + BigInt(Math.floor(rand() * 90_000_000));
    spans.push({
      traceId: parent?.traceId ?? traceId, spanId, parentSpanId: parent?.spanId ?? null,
      workflowId: 'wf', workflowType: pick(['checkout', 'login']), layer: pick(['frontend', 'service', 'database']),
      component: pick(['web', 'orders']), name: pick(['documentLoad', 'GET /orders/12', 'GET /orders/99', 'SELECT 1', 'pageLoad', 'fetch']),
      kind: pick([1, 2, 3]), statusCode: 0, statusMessage: null, isError: rand() < 0.1, startUnixNano: start, endUnixNano: end,
      userId: null, scopeName: null, attributes: {}, resource: {}, events: [], links: [],
    });
  }
  return spans;
}

function referenceSnapshotDeltas(spans: readonly SpanRecord[]) {
  const byKey = new Map<string, { bucketStartMs: number; workflowType: string; layer: string; component: string; metric: string; count: number; errorCount: number; sum: number; min: number; max: number; buckets: number[] }>();
  for (const s of spans) {
    const ms = Number(s.endUnixNano - s.startUnixNano) / 1e6;
    const bucketStartMs = Math.floor(Number(s.startUnixNano / NS) / MINUTE_MS) * MINUTE_MS;
    const metrics: string[] = [SNAPSHOT_METRICS.duration];
    if (s.layer === 'frontend') {
      if (['documentLoad', 'documentFetch', 'page load', 'pageLoad'].includes(s.name)) metrics.push(SNAPSHOT_METRICS.pageLoad);
      else if (s.kind === 3) metrics.push(SNAPSHOT_METRICS.browserApi);
    }
    for (const metric of metrics) {
      const key = [bucketStartMs, s.workflowType, s.layer, s.component, metric].join('|');
      let d = byKey.get(key);
      if (!d) byKey.set(key, (d = { bucketStartMs, workflowType: s.workflowType, layer: s.layer, component: s.component, metric, count: 0, errorCount: 0, sum: 0, min: ms, max: ms, buckets: emptyBuckets() }));
      d.count++;
      if (s.isError) d.errorCount++;
      d.sum += ms;
      d.min = Math.min(d.min, ms);
      d.max = Math.max(d.max, ms);
      d.buckets[bucketIndex(ms)]! += 1;
    }
  }
  return [...byKey.values()];
}

function referenceSelfTimes(spans: readonly SpanRecord[]): number[] {
  const t = (ns: bigint) => Number(ns - spans[0]!.startUnixNano) / 1e6;
  // A child belongs to the last span of the batch with its trace and parent id (an id repeated
  // within a trace is invalid OTLP, but must not break the count).
  const owner = new Map<string, SpanRecord>();
  for (const s of spans) owner.set(`${s.traceId}:${s.spanId}`, s);
  return spans.map((p) => {
    if (owner.get(`${p.traceId}:${p.spanId}`) !== p) return Math.max(0, t(p.endUnixNano) - t(p.startUnixNano));
    const a0 = t(p.startUnixNano);
    const b0 = t(p.endUnixNano);
    // The children's union by a sweep over their clipped endpoints (+1 at a start, -1 at an
    // end): time where the depth is above 0 is covered. (Not the merge the code under test uses.)
    const edges = spans
      .filter((c) => c !== p && c.traceId === p.traceId && c.parentSpanId === p.spanId)
      .map((c) => [Math.max(t(c.startUnixNano), a0), Math.min(t(c.endUnixNano), b0)] as const)
      .filter(([a, b]) => b > a)
      .flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const])
      .sort((x, y) => x[0] - y[0] || y[1] - x[1]);
    let covered = 0;
    let depth = 0;
    let at = 0;
    for (const [x, step] of edges) {
      if (depth > 0) covered += x - at;
      depth += step;
      at = x;
    }
    return Math.max(0, b0 - a0 - covered);
  });
}

describe('deriveSnapshotDeltas', () => {
  it('equals the reference on random batches: minute rows to the nanosecond, browser metrics, errors', () => {
    const rand = prng(7);
    for (let round = 0; round < 30; round++) {
      const spans = randomBatch(rand, 1 + Math.floor(rand() * 200));
      const got = deriveSnapshotDeltas(spans);
      const want = referenceSnapshotDeltas(spans);
      expect(got).toEqual(want);
      expect(got.reduce((n, d) => n + (d.metric === SNAPSHOT_METRICS.duration ? d.count : 0), 0)).toBe(spans.length);
    }
    // both minutes are seen: the batches straddle a boundary
    const minutes = new Set(deriveSnapshotDeltas(randomBatch(prng(8), 300)).map((d) => d.bucketStartMs));
    expect(minutes.size).toBe(2);
    expect(deriveSnapshotDeltas([])).toEqual([]);
  });
});

describe('selfTimesMs and deriveOperationDeltas', () => {
  it('equal the reference on random batches (span ids shared across traces, minutes straddled)', () => {
    const rand = prng(11);
    for (let round = 0; round < 30; round++) {
      const spans = randomBatch(rand, 1 + Math.floor(rand() * 200));
      const self = selfTimesMs(spans);
      const want = referenceSelfTimes(spans);
      expect(self).toHaveLength(want.length);
      for (let i = 0; i < self.length; i++) expect(self[i]).toBeCloseTo(want[i]!, 6);

      const deltas = deriveOperationDeltas(spans, new OperationCatalog(100));
      const keyOf = (d: { bucketStartMs: number; workflowType: string; layer: string; component: string; operation: string }) =>
        [d.bucketStartMs, d.workflowType, d.layer, d.component, d.operation].join('|');
      expect(new Set(deltas.map(keyOf)).size).toBe(deltas.length); // one row per key
      for (const d of deltas) {
        const mine = spans
          .map((s, i) => ({ s, self: want[i]! }))
          .filter(({ s }) => keyOf({ bucketStartMs: Math.floor(Number(s.startUnixNano / NS) / MINUTE_MS) * MINUTE_MS, workflowType: s.workflowType, layer: s.layer, component: s.component, operation: normalizeOperation(s.name) }) === keyOf(d));
        expect(d.count).toBe(mine.length);
        expect(d.errorCount).toBe(mine.filter(({ s }) => s.isError).length);
        expect(d.sum).toBeCloseTo(mine.reduce((n, { s }) => n + Number(s.endUnixNano - s.startUnixNano) / 1e6, 0), 6);
        expect(d.selfSum).toBeCloseTo(mine.reduce((n, { self }) => n + self, 0), 6);
        const ok = mine.filter(({ s }) => !s.isError);
        expect(d.buckets.reduce((a, b) => a + b, 0)).toBe(ok.length);
        for (const { s } of ok) expect(d.buckets[bucketIndex(Number(s.endUnixNano - s.startUnixNano) / 1e6)]).toBeGreaterThan(0);
      }
      expect(deltas.reduce((n, d) => n + d.count, 0)).toBe(spans.length);
    }
  });
});
