import {
  OPERATION_RESOLUTIONS,
  OTHER_OPERATION,
  bucketIndex,
  emptyBuckets,
  normalizeOperation,
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
  const n = spans.length;
  if (n === 0) return [];
  // Times as ms numbers relative to the first span (one BigInt subtraction per time: exact to
  // the nanosecond for any batch spanning less than ~100 days).
  const t0 = spans[0]!.startUnixNano;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    start[i] = Number(s.startUnixNano - t0) / 1e6;
    end[i] = Number(s.endUnixNano - t0) / 1e6;
    index.set(s.traceId + s.spanId, i);
  }
  const kids = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    if (s.parentSpanId === null) continue;
    const p = index.get(s.traceId + s.parentSpanId);
    if (p === undefined || p === i) continue;
    const list = kids.get(p);
    if (list) list.push(i);
    else kids.set(p, [i]);
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a0 = start[i]!;
    const b0 = end[i]!;
    const dur = b0 - a0;
    const list = kids.get(i);
    if (!list) {
      out[i] = dur > 0 ? dur : 0;
      continue;
    }
    const iv: [number, number][] = [];
    for (const k of list) {
      const a = start[k]! > a0 ? start[k]! : a0;
      const b = end[k]! < b0 ? end[k]! : b0;
      if (b > a) iv.push([a, b]);
    }
    iv.sort((x, y) => x[0] - y[0]);
    let covered = 0;
    let cs = 0;
    let ce = -Infinity;
    for (const [a, b] of iv) {
      if (a > ce) {
        if (ce > cs) covered += ce - cs;
        cs = a;
        ce = b;
      } else if (b > ce) ce = b;
    }
    if (ce > cs) covered += ce - cs;
    const self = dur - covered;
    out[i] = self > 0 ? self : 0;
  }
  return out;
}

/**
 * Per-operation minute deltas from every span of a request, before sampling: counts, errors,
 * sums and min/max of every span; duration and self-time histograms of the successful ones.
 * The hour rows are summed from the minute rows when they are folded into operation_stats
 * (storage's foldPendingOperations / withHourRows).
 */
export function deriveOperationDeltas(spans: readonly SpanRecord[], catalog: OperationCatalog): OperationDelta[] {
  const self = selfTimesMs(spans);
  const MINUTE = OPERATION_RESOLUTIONS.minute * 1000;
  // Hot path (every span of every request): one scope string and one map lookup per span; the
  // few minutes of a scope in one request (usually one) are scanned.
  const byScope = new Map<string, OperationDelta[]>();
  const out: OperationDelta[] = [];
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    const ms = Number(s.endUnixNano - s.startUnixNano) / 1e6;
    const selfMs = self[i]!;
    const startMs = Number(s.startUnixNano / 1_000_000n);
    const operation = catalog.operationOf(s.component, s.name);
    const scope = `${s.workflowType}\u0000${s.layer}\u0000${s.component}\u0000${operation}`;
    let list = byScope.get(scope);
    if (!list) byScope.set(scope, (list = []));
    const ok = !s.isError;
    const bucketStartMs = Math.floor(startMs / MINUTE) * MINUTE;
    let d: OperationDelta | undefined;
    for (const x of list) {
      if (x.bucketStartMs === bucketStartMs) {
        d = x;
        break;
      }
    }
    if (!d) {
      d = {
        bucketStartMs, bucketSeconds: OPERATION_RESOLUTIONS.minute, workflowType: s.workflowType, layer: s.layer, component: s.component, operation,
        count: 0, errorCount: 0, sum: 0, selfSum: 0, min: ms, max: ms, buckets: emptyBuckets(), selfBuckets: emptyBuckets(),
      };
      list.push(d);
      out.push(d);
    }
    d.count++;
    if (!ok) d.errorCount++;
    d.sum += ms;
    d.selfSum += selfMs;
    if (ms < d.min) d.min = ms;
    if (ms > d.max) d.max = ms;
    // The histograms (what baselines read) hold successful spans only: a baseline is how long
    // the operation usually takes when it works, so timeouts and fast failures do not move it.
    if (ok) {
      d.buckets[bucketIndex(ms)]! += 1;
      d.selfBuckets[bucketIndex(selfMs)]! += 1;
    }
  }
  return out;
}

/** Adds deltas with the same key together (storage's; a flush merges the deltas of many requests). */
export { mergeOperationDeltas } from '@flowscope/storage';
