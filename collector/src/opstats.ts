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

/** Start and end of each span in ns relative to the first span's start (exact integers below 2^53). */
interface RelativeTimes {
  readonly t0: bigint;
  readonly startNs: Float64Array;
  readonly endNs: Float64Array;
}

function relativeTimes(spans: readonly SpanRecord[]): RelativeTimes {
  const n = spans.length;
  const t0 = spans[0]!.startUnixNano;
  const startNs = new Float64Array(n);
  const endNs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    // One BigInt subtraction per time: exact to the nanosecond for any batch spanning less
    // than ~100 days.
    startNs[i] = Number(s.startUnixNano - t0);
    endNs[i] = Number(s.endUnixNano - t0);
  }
  return { t0, startNs, endNs };
}

/**
 * Self time of each span as far as this request shows it: its duration minus the union of
 * its children that came in the same request (a service exports its own spans, so a child in
 * another service does not count; a CLIENT span's self time includes the remote call).
 */
export function selfTimesMs(spans: readonly SpanRecord[]): number[] {
  if (spans.length === 0) return [];
  return selfTimesOf(spans, relativeTimes(spans));
}

function selfTimesOf(spans: readonly SpanRecord[], times: RelativeTimes): number[] {
  const n = spans.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  // Spans by span id; the rare id shared by two spans of one request keeps a list.
  const index = new Map<string, number | number[]>();
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    start[i] = times.startNs[i]! / 1e6;
    end[i] = times.endNs[i]! / 1e6;
    const had = index.get(s.spanId);
    if (had === undefined) index.set(s.spanId, i);
    else if (typeof had === 'number') index.set(s.spanId, [had, i]);
    else had.push(i);
  }
  const parentOf = (s: SpanRecord): number | undefined => {
    const hit = index.get(s.parentSpanId!);
    if (hit === undefined) return undefined;
    if (typeof hit === 'number') return spans[hit]!.traceId === s.traceId ? hit : undefined;
    for (let k = hit.length - 1; k >= 0; k--) if (spans[hit[k]!]!.traceId === s.traceId) return hit[k]; // the last of a duplicate id wins
    return undefined;
  };
  let kids: (number[] | undefined)[] | undefined;
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    if (s.parentSpanId === null) continue;
    const p = parentOf(s);
    if (p === undefined || p === i) continue;
    kids ??= new Array<number[] | undefined>(n);
    const list = kids[p];
    if (list) list.push(i);
    else kids[p] = [i];
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const a0 = start[i]!;
    const b0 = end[i]!;
    const dur = b0 - a0;
    const list = kids?.[i];
    if (!list) {
      out[i] = dur > 0 ? dur : 0;
      continue;
    }
    if (list.length === 1) {
      // one child (the common case): no interval list
      const k = list[0]!;
      const a = start[k]! > a0 ? start[k]! : a0;
      const b = end[k]! < b0 ? end[k]! : b0;
      const self = b > a ? dur - (b - a) : dur;
      out[i] = self > 0 ? self : 0;
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

/** The minute deltas of one operation of one service, by workflow type and layer. */
type OperationSlot = Map<string, Map<string, OperationDelta[]>>;

/**
 * Per-operation minute deltas from every span of a request, before sampling: counts, errors,
 * sums and min/max of every span; duration and self-time histograms of the successful ones.
 * The hour rows are summed from the minute rows when they are folded into operation_stats
 * (storage's foldPendingOperations / withHourRows).
 */
export function deriveOperationDeltas(spans: readonly SpanRecord[], catalog: OperationCatalog): OperationDelta[] {
  const n = spans.length;
  if (n === 0) return [];
  const times = relativeTimes(spans);
  const self = selfTimesOf(spans, times);
  const MINUTE = OPERATION_RESOLUTIONS.minute * 1000;
  // The first span's start as whole ms plus its sub-ms rest in ns: a span's start in whole ms
  // is then exact integer arithmetic on numbers (no BigInt division per span).
  const t0Ms = Number(times.t0 / 1_000_000n);
  const t0RestNs = Number(times.t0 % 1_000_000n);
  // Hot path (every span of every request): the strings of a span are looked up as they are
  // (component → name → slot, then workflow type → layer), no key is built per span; the few
  // minutes of a scope in one request (usually one) are scanned.
  const slotsByComponent = new Map<string, Map<string, OperationSlot>>(); // by raw span name
  const slotsByOperation = new Map<string, OperationSlot>(); // names normalised to one operation share it
  const operationOfSlot = new Map<OperationSlot, string>();
  const out: OperationDelta[] = [];
  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    let byName = slotsByComponent.get(s.component);
    if (!byName) slotsByComponent.set(s.component, (byName = new Map()));
    let slot = byName.get(s.name);
    if (!slot) {
      const op = catalog.operationOf(s.component, s.name);
      const opKey = `${s.component}\u0000${op}`;
      slot = slotsByOperation.get(opKey);
      if (!slot) {
        slotsByOperation.set(opKey, (slot = new Map()));
        operationOfSlot.set(slot, op);
      }
      byName.set(s.name, slot);
    }
    let byLayer = slot.get(s.workflowType);
    if (!byLayer) slot.set(s.workflowType, (byLayer = new Map()));
    let list = byLayer.get(s.layer);
    if (!list) byLayer.set(s.layer, (list = []));
    const durNs = times.endNs[i]! - times.startNs[i]!;
    const ms = durNs / 1e6;
    const selfMs = self[i]!;
    const relNs = t0RestNs + times.startNs[i]!;
    const startMs = Math.abs(relNs) < 1e15 ? t0Ms + Math.floor(relNs / 1e6) : Number(s.startUnixNano / 1_000_000n);
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
        bucketStartMs, bucketSeconds: OPERATION_RESOLUTIONS.minute, workflowType: s.workflowType, layer: s.layer, component: s.component,
        operation: operationOfSlot.get(slot)!,
        count: 0, errorCount: 0, sum: 0, selfSum: 0, min: ms, max: ms, buckets: emptyBuckets(), selfBuckets: emptyBuckets(),
      };
      list.push(d);
      out.push(d);
    }
    d.count++;
    d.sum += ms;
    d.selfSum += selfMs;
    if (ms < d.min) d.min = ms;
    if (ms > d.max) d.max = ms;
    // The histograms (what baselines read) hold successful spans only: a baseline is how long
    // the operation usually takes when it works, so timeouts and fast failures do not move it.
    if (s.isError) d.errorCount++;
    else {
      d.buckets[bucketIndex(ms)]! += 1;
      d.selfBuckets[bucketIndex(selfMs)]! += 1;
    }
  }
  return out;
}

/** Adds deltas with the same key together (storage's; a flush merges the deltas of many requests). */
export { mergeOperationDeltas } from '@flowscope/storage';
