-- Receipts of export requests whose contribution to workflow_sessions and
-- performance_snapshots has been committed. An exporter retries with the same body, so a
-- retried request finds its receipt and is not counted twice. Pruned after a few hours.
CREATE TABLE ingest_receipts (
  hash         text        PRIMARY KEY,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_receipts_received_idx ON ingest_receipts (received_at);
