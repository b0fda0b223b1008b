import type { Tx } from './driver.ts';
import { BUCKET_COUNT } from './histogram.ts';

/**
 * Metric names of performance_snapshots.metric. Every span counts under `duration_ms`;
 * frontend spans additionally count under the browser metrics so alert rules can hold page
 * loads and browser-side API calls to their own thresholds.
 */
export const SNAPSHOT_METRICS = {
  /** Every span's duration. */
  duration: 'duration_ms',
  /** Frontend document/page load spans. */
  pageLoad: 'page_load_ms',
  /** Frontend CLIENT http spans (fetch/XHR as the browser sees them). */
  browserApi: 'browser_api_ms',
} as const;

/** One minute × workflow type × layer × component × metric worth of observations. */
export interface SnapshotDelta {
  /** Start of the minute, ms since the epoch (a multiple of 60000). */
  bucketStartMs: number;
  workflowType: string;
  layer: string;
  component: string;
  metric: string;
  count: number;
  errorCount: number;
  sum: number;
  min: number;
  max: number;
  /** BUCKET_COUNT counts (see histogram.ts). */
  buckets: number[];
}

/**
 * Adds deltas to performance_snapshots in the caller's transaction (upsert: counts and
 * buckets add, min/max widen). Not idempotent by itself: the caller makes sure a delta is
 * applied once (the collector derives deltas only from spans it has not seen before).
 * Rows are applied in key order so concurrent writers do not deadlock.
 */
export async function writeSnapshotDeltas(tx: Tx, deltas: readonly SnapshotDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const sorted = [...deltas].sort((a, b) =>
    a.bucketStartMs !== b.bucketStartMs
      ? a.bucketStartMs - b.bucketStartMs
      : `${a.workflowType}\u0000${a.layer}\u0000${a.component}\u0000${a.metric}` <
          `${b.workflowType}\u0000${b.layer}\u0000${b.component}\u0000${b.metric}`
        ? -1
        : 1,
  );
  const rows = sorted.map((d) => {
    if (d.buckets.length !== BUCKET_COUNT) throw new Error(`snapshot delta needs ${BUCKET_COUNT} buckets`);
    return {
      bucket_start: new Date(d.bucketStartMs).toISOString(),
      workflow_type: d.workflowType,
      layer: d.layer,
      component: d.component,
      metric: d.metric,
      count: d.count,
      error_count: d.errorCount,
      sum: d.sum,
      min: d.min,
      max: d.max,
      buckets: d.buckets,
    };
  });
  await tx.query(
    `INSERT INTO performance_snapshots AS p
       (bucket_start, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets)
     SELECT r.bucket_start, r.workflow_type, r.layer, r.component, r.metric, r.count, r.error_count, r.sum, r.min, r.max,
            ARRAY(SELECT jsonb_array_elements_text(r.buckets)::bigint)
       FROM jsonb_to_recordset($1::text::jsonb) AS r(bucket_start timestamptz, workflow_type text, layer text, component text,
            metric text, count bigint, error_count bigint, sum double precision, min double precision,
            max double precision, buckets jsonb)
     ON CONFLICT (bucket_start, workflow_type, layer, component, metric) DO UPDATE SET
       count = p.count + EXCLUDED.count,
       error_count = p.error_count + EXCLUDED.error_count,
       sum = p.sum + EXCLUDED.sum,
       min = least(p.min, EXCLUDED.min),
       max = greatest(p.max, EXCLUDED.max),
       buckets = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
                         FROM unnest(p.buckets, EXCLUDED.buckets) AS u(a, b))`,
    [JSON.stringify(rows)],
  );
}

/** Statistics an alert rule can hold a snapshot metric to. */
export const ALERT_STATISTICS = ['p50', 'p90', 'p95', 'p99', 'avg', 'max', 'error_pct'] as const;

/**
 * alert_rules.metric is `<snapshot metric>:<statistic>`, e.g. `duration_ms:p95` or
 * `duration_ms:error_pct`. One pattern for the worker that evaluates rules and the API that
 * edits them.
 */
export const ALERT_METRIC_PATTERN = `^(${Object.values(SNAPSHOT_METRICS).join('|')}):(${ALERT_STATISTICS.join('|')})$`;
