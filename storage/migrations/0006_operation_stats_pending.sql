-- Per-operation statistics written once per flush as one row, folded into operation_stats later
-- (issue: root cause, ingest cost of baselines). Upserting a flush's per-operation minute and
-- hour rows (a few hundred rows of two 102-bucket histograms each) cost a flush about a fifth of
-- its time; a flush now inserts its minute deltas as one row here (the JSON of
-- storage/src/baselines.ts pendingOperationParam) in the statement that applies its
-- other counts, and the collector folds pending rows into operation_stats (minute and hour rows)
-- every few seconds, in one transaction that deletes what it folded. Readers of operation_stats
-- add the pending rows, so every span is counted exactly once at any moment, before and after a
-- fold. Rows of a collector that died before folding are folded by any other collector.
CREATE TABLE operation_stats_pending (
  id          bigserial   PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- JSON array of minute deltas (bucket_start, bucket_seconds = 60, workflow_type, layer,
  -- component, operation, count, error_count, sum, self_sum, min, max, and buckets and
  -- self_buckets as PostgreSQL array literals of their non-zero range, e.g. '[36:41]={2,0,1,4,1,2}').
  -- Text, not jsonb: nothing parses it on the write path.
  deltas      text        NOT NULL
);
