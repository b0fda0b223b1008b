import { addDelta, bucketIndex, emptyBuckets, SNAPSHOT_METRICS, type SnapshotDelta, type SpanRecord } from '@flowscope/storage';
import { SPAN_KIND } from './model.ts';

/**
 * Per-minute snapshot deltas: what the derive stage computes from every span of a request and
 * what the writer merges across the requests of one commit. Both sides key a delta the same way.
 */

const PAGE_LOAD_NAMES = new Set(['documentLoad', 'documentFetch', 'page load', 'pageLoad']);

/** Which snapshot metrics a span counts toward: always duration, plus the browser ones. */
export function metricsOf(span: SpanRecord): string[] {
  if (span.layer !== 'frontend') return [SNAPSHOT_METRICS.duration];
  if (PAGE_LOAD_NAMES.has(span.name)) return [SNAPSHOT_METRICS.duration, SNAPSHOT_METRICS.pageLoad];
  if (span.kind === SPAN_KIND.client) return [SNAPSHOT_METRICS.duration, SNAPSHOT_METRICS.browserApi];
  return [SNAPSHOT_METRICS.duration];
}

/** The identity of a snapshot row: minute, workflow type, layer, component and metric. */
const snapshotDeltaKey = (d: Pick<SnapshotDelta, 'bucketStartMs' | 'workflowType' | 'layer' | 'component' | 'metric'>) =>
  `${d.bucketStartMs}\u0000${d.workflowType}\u0000${d.layer}\u0000${d.component}\u0000${d.metric}`;

/**
 * Snapshot deltas from every span of a request, before sampling, so statistics and alerts are
 * not biased by it.
 */
export function deriveSnapshotDeltas(spans: readonly SpanRecord[]): SnapshotDelta[] {
  const byKey = new Map<string, SnapshotDelta>();
  for (const s of spans) {
    const ms = Number(s.endUnixNano - s.startUnixNano) / 1e6;
    const bucketStartMs = Math.floor(Number(s.startUnixNano / 1_000_000n) / 60_000) * 60_000;
    for (const metric of metricsOf(s)) {
      const k = { bucketStartMs, workflowType: s.workflowType, layer: s.layer, component: s.component, metric };
      const key = snapshotDeltaKey(k);
      let d = byKey.get(key);
      if (!d) {
        d = { ...k, count: 0, errorCount: 0, sum: 0, min: ms, max: ms, buckets: emptyBuckets() };
        byKey.set(key, d);
      }
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
