import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The collector's own Prometheus metrics, on a registry per instance (tests run several). */
export function createCollectorMetrics(registry = new Registry()) {
  return {
    registry,
    requests: new Counter({
      name: 'flowscope_export_requests_total',
      help: 'OTLP export requests by transport and response status code',
      labelNames: ['transport', 'code'] as const,
      registers: [registry],
    }),
    received: new Counter({
      name: 'flowscope_spans_received_total',
      help: 'Spans decoded from export requests',
      registers: [registry],
    }),
    accepted: new Counter({
      name: 'flowscope_spans_accepted_total',
      help: 'Spans acknowledged to the sender (committed, or already stored)',
      registers: [registry],
    }),
    stored: new Counter({
      name: 'flowscope_spans_stored_total',
      help: 'Spans newly written to storage',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'flowscope_spans_duplicate_total',
      help: 'Spans re-delivered that were already stored (skipped)',
      registers: [registry],
    }),
    refused: new Counter({
      name: 'flowscope_spans_refused_total',
      help: 'Spans refused, by reason (invalid, queue_full, storage_unavailable, memory_limit, storage_error, shutting_down)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    redacted: new Counter({
      name: 'flowscope_attributes_redacted_total',
      help: 'Attribute values replaced because their key names a secret',
      registers: [registry],
    }),
    writeDuration: new Histogram({
      name: 'flowscope_write_duration_seconds',
      help: 'Time to commit one group-commit batch',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    writeBatchSpans: new Histogram({
      name: 'flowscope_write_batch_spans',
      help: 'Spans per committed batch',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000, 50000],
      registers: [registry],
    }),
    baselineFolds: new Counter({
      name: 'flowscope_baseline_folds_total',
      help: 'Folds of pending per-operation rows into operation_stats, by result (ok, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    baselineFoldedRows: new Counter({
      name: 'flowscope_baseline_folded_rows_total',
      help: 'Pending per-operation rows (one per flush) folded into operation_stats',
      registers: [registry],
    }),
    baselineFoldDuration: new Histogram({
      name: 'flowscope_baseline_fold_duration_seconds',
      help: 'Time of one fold of pending per-operation rows (all its transactions)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    snapshotFolds: new Counter({
      name: 'flowscope_snapshot_folds_total',
      help: 'Folds of pending snapshot rows into performance_snapshots and performance_rollups, by result (ok, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    snapshotFoldedRows: new Counter({
      name: 'flowscope_snapshot_folded_rows_total',
      help: 'Pending snapshot rows (one per flush and workflow type) folded into performance_snapshots',
      registers: [registry],
    }),
    snapshotFoldDuration: new Histogram({
      name: 'flowscope_snapshot_fold_duration_seconds',
      help: 'Time of one fold of pending snapshot rows (all its transactions)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    queuedSpans: new Gauge({
      name: 'flowscope_writer_queue_spans',
      help: 'Spans waiting for the writer',
      registers: [registry],
    }),
    flushesInFlight: new Gauge({
      name: 'flowscope_writer_flushes_in_flight',
      help: 'Flush transactions the writer is running (at most FLOWSCOPE_WRITER_CONCURRENCY)',
      registers: [registry],
    }),
    writeRetries: new Counter({
      name: 'flowscope_write_retries_total',
      help: 'Flush transactions run again because PostgreSQL rolled them back (40P01 deadlock, 40001 serialization failure)',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    inflightBytes: new Gauge({
      name: 'flowscope_inflight_bytes',
      help: 'Request body bytes held in memory across all requests',
      registers: [registry],
    }),
    sampledOut: new Counter({
      name: 'flowscope_spans_sampled_out_total',
      help: 'Spans dropped by sampling: held for the decision window and let go (expired) or pushed out by the hold bound (evicted)',
      labelNames: ['why'] as const,
      registers: [registry],
    }),
    rescued: new Counter({
      name: 'flowscope_spans_rescued_total',
      help: 'Held spans written because their trace became interesting (here or on another replica)',
      registers: [registry],
    }),
    sampled: new Counter({
      name: 'flowscope_sampling_decisions_spans_total',
      help: 'Spans by sampling decision reason (error, slow, rate, decided, held)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    heldSpans: new Gauge({
      name: 'flowscope_spans_held',
      help: 'Spans held in memory awaiting a sampling decision',
      registers: [registry],
    }),
    heldBytes: new Gauge({
      name: 'flowscope_spans_held_bytes',
      help: 'Approximate bytes of spans held awaiting a sampling decision',
      registers: [registry],
    }),
    ingestRateLimited: new Counter({
      name: 'flowscope_ingest_rate_limited_total',
      help: 'OTLP requests refused by the per-token ingest rate limit (FLOWSCOPE_INGEST_RATE_LIMIT), by token name',
      labelNames: ['token'] as const,
      registers: [registry],
    }),
    storageUp: new Gauge({
      name: 'flowscope_storage_up',
      help: '1 when the last write or probe reached storage, 0 while it is unavailable',
      registers: [registry],
    }),
  };
}

export type CollectorMetrics = ReturnType<typeof createCollectorMetrics>;
