-- Pending snapshot rows (issue 12: ingest at sampling 0.1). Every flush upserted its snapshot
-- minute rows (~200) and their five-minute and hour roll-ups (~400, per scope and '*'), the same
-- hot rows as every other flush: measured as the largest part of a flush's counts statement
-- (221 of 321 ms at load 10) and ~45 % of PostgreSQL's CPU per span. A flush now records its
-- minute deltas as one row per workflow type here (the JSON of storage/src/snapshots.ts
-- pendingSnapshotRows) in the statement that applies its other counts, and the collector folds
-- pending rows into performance_snapshots and performance_rollups every few seconds, in one
-- transaction that deletes what it folded (as operation_stats_pending, migration 0006). Readers
-- of minute rows (series, alert windows, health) add the pending rows, so every span counts
-- exactly once at any moment, before and after a fold. Rows of a collector that died before
-- folding are folded by any other collector.
CREATE TABLE performance_snapshots_pending (
  id            bigserial   PRIMARY KEY,
  created_at    timestamptz NOT NULL DEFAULT now(),
  workflow_type text        NOT NULL,
  -- JSON array of minute deltas: m minute start (epoch seconds), l layer, c component, k metric,
  -- n count, e errors, s sum (ms), lo/hi min and max, b histogram as a PostgreSQL array literal of
  -- its non-zero range ('[36:41]={2,0,1,4,1,2}'). Text, not jsonb: nothing parses it on the write path.
  deltas        text        NOT NULL
);
