import { addDelta, bucketIndex, emptyBuckets, SNAPSHOT_METRICS, type SnapshotDelta, type SpanRecord } from '@flowscope/storage';
import { SPAN_KIND } from './model.ts';

/**
 * Per-minute snapshot deltas: what the derive stage computes from every span of a request and
 * what the writer merges across the requests of one commit. Both sides key a delta the same way.
 */

const PAGE_LOAD_NAMES = new Set(['documentLoad', 'documentFetch', 'page load', 'pageLoad']);

/** The identity of a snapshot row: minute, workflow type, layer, component and metric. */
const snapshotDeltaKey = (d: Pick<SnapshotDelta, 'bucketStartMs' | 'workflowType' | 'layer' | 'component' | 'metric'>) =>
  `${d.bucketStartMs}\u0000${d.workflowType}\u0000${d.layer}\u0000${d.component}\u0000${d.metric}`;

/**
 * Snapshot deltas from every span of a request, before sampling, so statistics and alerts are
 * not biased by it.
 */
export function deriveSnapshotDeltas(spans: readonly SpanRecord[]): SnapshotDelta[] {
  if (spans.length === 0) return [];
  // Hot path (every span of every request): times as numbers relative to the first span's
  // start (one BigInt subtraction per time, exact below 2^53 ns), the span's strings looked up
  // as they are in nested maps (no key built per span), the few minutes of a scope scanned.
  const t0 = spans[0]!.startUnixNano;
  const t0Ms = Number(t0 / 1_000_000n);
  const t0RestNs = Number(t0 % 1_000_000n);
  const byType = new Map<string, Map<string, Map<string, SnapshotDelta[]>>>();
  const out: SnapshotDelta[] = [];
  const count = (s: SpanRecord, list: SnapshotDelta[], metric: string, bucketStartMs: number, ms: number, bucket: number) => {
    let d: SnapshotDelta | undefined;
    for (const x of list) {
      if (x.bucketStartMs === bucketStartMs && x.metric === metric) {
        d = x;
        break;
      }
    }
    if (!d) {
      d = { bucketStartMs, workflowType: s.workflowType, layer: s.layer, component: s.component, metric, count: 0, errorCount: 0, sum: 0, min: ms, max: ms, buckets: emptyBuckets() };
      list.push(d);
      out.push(d);
    }
    d.count++;
    if (s.isError) d.errorCount++;
    d.sum += ms;
    if (ms < d.min) d.min = ms;
    if (ms > d.max) d.max = ms;
    d.buckets[bucket]! += 1;
  };
  for (const s of spans) {
    const ms = Number(s.endUnixNano - s.startUnixNano) / 1e6;
    const relNs = t0RestNs + Number(s.startUnixNano - t0);
    const startMs = Math.abs(relNs) < 1e15 ? t0Ms + Math.floor(relNs / 1e6) : Number(s.startUnixNano / 1_000_000n);
    const bucketStartMs = Math.floor(startMs / 60_000) * 60_000;
    let byLayer = byType.get(s.workflowType);
    if (!byLayer) byType.set(s.workflowType, (byLayer = new Map()));
    let byComponent = byLayer.get(s.layer);
    if (!byComponent) byLayer.set(s.layer, (byComponent = new Map()));
    let list = byComponent.get(s.component);
    if (!list) byComponent.set(s.component, (list = []));
    const bucket = bucketIndex(ms);
    // Which snapshot metrics a span counts toward: always duration, plus the browser ones.
    count(s, list, SNAPSHOT_METRICS.duration, bucketStartMs, ms, bucket);
    if (s.layer === 'frontend') {
      if (PAGE_LOAD_NAMES.has(s.name)) count(s, list, SNAPSHOT_METRICS.pageLoad, bucketStartMs, ms, bucket);
      else if (s.kind === SPAN_KIND.client) count(s, list, SNAPSHOT_METRICS.browserApi, bucketStartMs, ms, bucket);
    }
  }
  return out;
}

/** Adds deltas with the same key together (a flush merges the deltas of many requests). */
export function mergeDeltas(deltas: readonly SnapshotDelta[]): SnapshotDelta[] {
  const byKey = new Map<string, SnapshotDelta>();
  for (const d of deltas) {
    const key = snapshotDeltaKey(d);
    const m = byKey.get(key);
    if (m) addDelta(m, d);
    else byKey.set(key, { ...d, buckets: [...d.buckets] });
  }
  return [...byKey.values()];
}
