import {
  OPERATION_RESOLUTIONS,
  OTHER_OPERATION,
  bucketIndex,
  emptyBuckets,
  normalizeOperation,
  operationDeltaKey,
  type OperationDelta,
  type SpanRecord,
} from '@flowscope/storage';

/**
 * Bounds the operations counted per service: the first `maxPerService` distinct operation
 * keys of a service are counted under their own name, later ones under `other`. The set is
 * per process (after a restart the first names seen are admitted again; keys already stored
 * stay readable). Names are normalised (ids, numbers, literals) before they become keys.
 */
export class OperationCatalog {
  private readonly byService = new Map<string, Set<string>>();
  private readonly cache = new Map<string, string>();

  constructor(readonly maxPerService: number) {}

  operationOf(component: string, name: string): string {
    const ck = `${component}\u0000${name}`;
    const hit = this.cache.get(ck);
    if (hit !== undefined) return hit;
    const op = normalizeOperation(name);
    let set = this.byService.get(component);
    if (!set) this.byService.set(component, (set = new Set()));
    let out = OTHER_OPERATION;
    if (set.has(op)) out = op;
    else if (set.size < this.maxPerService) {
      set.add(op);
      out = op;
    }
    // The raw-name cache is bounded too: names past it are normalised on every call.
    if (this.cache.size < this.maxPerService * 50) this.cache.set(ck, out);
    return out;
  }
}

/**
 * Self time of each span as far as this request shows it: its duration minus the union of
 * its children that came in the same request (a service exports its own spans, so a child in
 * another service does not count; a CLIENT span's self time includes the remote call).
 */
export function selfTimesMs(spans: readonly SpanRecord[]): number[] {
  const index = new Map<string, number>();
  spans.forEach((s, i) => index.set(`${s.traceId}/${s.spanId}`, i));
  const kids = new Map<number, number[]>();
  spans.forEach((s, i) => {
    if (s.parentSpanId === null) return;
    const p = index.get(`${s.traceId}/${s.parentSpanId}`);
    if (p === undefined || p === i) return;
    const list = kids.get(p);
    if (list) list.push(i);
    else kids.set(p, [i]);
  });
  return spans.map((s, i) => {
    const dur = s.endUnixNano - s.startUnixNano;
    const list = kids.get(i);
    if (!list) return Number(dur) / 1e6;
    const iv = list
      .map((k) => [spans[k]!.startUnixNano > s.startUnixNano ? spans[k]!.startUnixNano : s.startUnixNano, spans[k]!.endUnixNano < s.endUnixNano ? spans[k]!.endUnixNano : s.endUnixNano] as const)
      .filter(([a, b]) => b > a)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let covered = 0n;
    let cs = -1n;
    let ce = -1n;
    for (const [a, b] of iv) {
      if (a > ce) {
        if (ce > cs) covered += ce - cs;
        cs = a;
        ce = b;
      } else if (b > ce) ce = b;
    }
    if (ce > cs) covered += ce - cs;
    const self = dur - covered;
    return Number(self > 0n ? self : 0n) / 1e6;
  });
}

/**
 * Per-operation deltas (minute and hour rows) from every span of a request, before sampling:
 * counts, errors, sums and min/max of every span; duration and self-time histograms of the
 * successful ones.
 */
export function deriveOperationDeltas(spans: readonly SpanRecord[], catalog: OperationCatalog): OperationDelta[] {
  const self = selfTimesMs(spans);
  const byKey = new Map<string, OperationDelta>();
  spans.forEach((s, i) => {
    const ms = Number(s.endUnixNano - s.startUnixNano) / 1e6;
    const selfMs = self[i]!;
    const startMs = Number(s.startUnixNano / 1_000_000n);
    const operation = catalog.operationOf(s.component, s.name);
    for (const bucketSeconds of [OPERATION_RESOLUTIONS.minute, OPERATION_RESOLUTIONS.hour]) {
      const width = bucketSeconds * 1000;
      const k = {
        bucketStartMs: Math.floor(startMs / width) * width,
        bucketSeconds,
        workflowType: s.workflowType,
        layer: s.layer,
        component: s.component,
        operation,
      };
      const key = operationDeltaKey(k);
      let d = byKey.get(key);
      if (!d) {
        d = { ...k, count: 0, errorCount: 0, sum: 0, selfSum: 0, min: ms, max: ms, buckets: emptyBuckets(), selfBuckets: emptyBuckets() };
        byKey.set(key, d);
      }
      d.count++;
      if (s.isError) d.errorCount++;
      d.sum += ms;
      d.selfSum += selfMs;
      if (ms < d.min) d.min = ms;
      if (ms > d.max) d.max = ms;
      // The histograms (what baselines read) hold successful spans only: a baseline is how long
      // the operation usually takes when it works, so timeouts and fast failures do not move it.
      if (!s.isError) {
        d.buckets[bucketIndex(ms)]! += 1;
        d.selfBuckets[bucketIndex(selfMs)]! += 1;
      }
    }
  });
  return [...byKey.values()];
}

/** Adds deltas with the same key together (a flush merges the deltas of many requests). */
export function mergeOperationDeltas(deltas: readonly OperationDelta[]): OperationDelta[] {
  const byKey = new Map<string, OperationDelta>();
  for (const d of deltas) {
    const key = operationDeltaKey(d);
    const m = byKey.get(key);
    if (!m) {
      byKey.set(key, { ...d, buckets: [...d.buckets], selfBuckets: [...d.selfBuckets] });
      continue;
    }
    m.count += d.count;
    m.errorCount += d.errorCount;
    m.sum += d.sum;
    m.selfSum += d.selfSum;
    m.min = Math.min(m.min, d.min);
    m.max = Math.max(m.max, d.max);
    for (let i = 0; i < m.buckets.length; i++) {
      m.buckets[i]! += d.buckets[i] ?? 0;
      m.selfBuckets[i]! += d.selfBuckets[i] ?? 0;
    }
  }
  return [...byKey.values()];
}
