import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  activeWorkflowsByType,
  bucketIndex,
  emptyBuckets,
  SNAPSHOT_METRICS,
  type Database,
  type ErrorRecord,
  type SnapshotDelta,
  type SpanRecord,
} from '@flowscope/storage';
import { SPAN_KIND } from './model.ts';

const PAGE_LOAD_NAMES = new Set(['documentLoad', 'documentFetch', 'page load', 'pageLoad']);

/** Which snapshot metrics a span counts toward: always duration, plus the browser ones. */
export function metricsOf(span: SpanRecord): string[] {
  if (span.layer !== 'frontend') return [SNAPSHOT_METRICS.duration];
  if (PAGE_LOAD_NAMES.has(span.name)) return [SNAPSHOT_METRICS.duration, SNAPSHOT_METRICS.pageLoad];
  if (span.kind === SPAN_KIND.client) return [SNAPSHOT_METRICS.duration, SNAPSHOT_METRICS.browserApi];
  return [SNAPSHOT_METRICS.duration];
}

/**
 * The derive-metrics stage: per-minute snapshot deltas from every span of a request, before
 * sampling, so statistics and alerts are not biased by it.
 */
export function deriveSnapshotDeltas(spans: readonly SpanRecord[]): SnapshotDelta[] {
  const byKey = new Map<string, SnapshotDelta>();
  for (const s of spans) {
    const ms = Number(s.endUnixNano - s.startUnixNano) / 1e6;
    const bucketStartMs = Math.floor(Number(s.startUnixNano / 1_000_000n) / 60_000) * 60_000;
    for (const metric of metricsOf(s)) {
      const key = `${bucketStartMs}\u0000${s.workflowType}\u0000${s.layer}\u0000${s.component}\u0000${metric}`;
      let d = byKey.get(key);
      if (!d) {
        d = {
          bucketStartMs,
          workflowType: s.workflowType,
          layer: s.layer,
          component: s.component,
          metric,
          count: 0,
          errorCount: 0,
          sum: 0,
          min: ms,
          max: ms,
          buckets: emptyBuckets(),
        };
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
    const key = `${d.bucketStartMs}\u0000${d.workflowType}\u0000${d.layer}\u0000${d.component}\u0000${d.metric}`;
    const m = byKey.get(key);
    if (!m) {
      byKey.set(key, { ...d, buckets: [...d.buckets] });
      continue;
    }
    m.count += d.count;
    m.errorCount += d.errorCount;
    m.sum += d.sum;
    m.min = Math.min(m.min, d.min);
    m.max = Math.max(m.max, d.max);
    for (let i = 0; i < m.buckets.length; i++) m.buckets[i]! += d.buckets[i] ?? 0;
  }
  return [...byKey.values()];
}

/**
 * The Prometheus series of the system this replaces, with the names its Grafana panels use.
 * Label values come from senders, so the number of workflow types is capped: past the cap new
 * types are reported as "other" rather than growing the series without bound.
 */
export class SpanPrometheusMetrics {
  private readonly responseTime: Histogram<'workflow_type' | 'layer'>;
  private readonly errorsTotal: Counter<'workflow_type' | 'layer' | 'error_type'>;
  private readonly types = new Set<string>();
  private readonly errorTypes = new Set<string>();

  constructor(
    registry: Registry,
    private readonly maxTypes: number,
    db: Database,
    cacheMs = 5000,
  ) {
    this.responseTime = new Histogram({
      name: 'debugging_response_time_seconds',
      help: 'Span durations by workflow type and layer (every span, before sampling)',
      labelNames: ['workflow_type', 'layer'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    });
    this.errorsTotal = new Counter({
      name: 'debugging_errors_total',
      help: 'Error spans by workflow type, layer and error type (every span, before sampling)',
      labelNames: ['workflow_type', 'layer', 'error_type'],
      registers: [registry],
    });
    let cached: { at: number; rows: { workflow_type: string; n: number }[] } | undefined;
    new Gauge({
      name: 'debugging_active_workflows_total',
      help: 'Workflows in progress, by workflow type (from the database, shared by all replicas)',
      labelNames: ['workflow_type'],
      registers: [registry],
      async collect() {
        if (!cached || Date.now() - cached.at > cacheMs) {
          try {
            const rows = await activeWorkflowsByType(db, 100_000);
            cached = { at: Date.now(), rows };
          } catch {
            return; // storage down: keep the last values rather than fail the scrape
          }
        }
        this.reset();
        for (const r of cached.rows) this.set({ workflow_type: r.workflow_type }, Number(r.n));
      },
    });
  }

  private label(set: Set<string>, value: string): string {
    if (set.has(value)) return value;
    if (set.size >= this.maxTypes) return 'other';
    set.add(value);
    return value;
  }

  observe(spans: readonly SpanRecord[], errors: readonly ErrorRecord[]): void {
    for (const s of spans) {
      this.responseTime.observe(
        { workflow_type: this.label(this.types, s.workflowType), layer: s.layer },
        Number(s.endUnixNano - s.startUnixNano) / 1e9,
      );
    }
    for (const e of errors) {
      if (e.seq !== 0) continue; // one per error span; exception events are detail
      this.errorsTotal.inc({
        workflow_type: this.label(this.types, e.workflowType),
        layer: e.layer,
        error_type: this.label(this.errorTypes, e.errorType),
      });
    }
  }
}
