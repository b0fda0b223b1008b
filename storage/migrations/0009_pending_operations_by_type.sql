-- Pending per-operation rows per workflow type (issue 12: baseline reads). Readers of
-- operation_stats add the pending rows, parsing their JSON on every read: with 20 pending rows
-- (a fold's worth) a baseline read of one workflow type took ~32 ms, almost all of it parsing
-- the other types' deltas. A flush now writes one pending row per workflow type it saw, and
-- readers filtered by type skip the others' rows before parsing. Rows written before this
-- migration (workflow_type NULL) hold deltas of any type and are read by every reader.
ALTER TABLE operation_stats_pending ADD COLUMN workflow_type text;
