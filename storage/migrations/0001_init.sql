-- flowscope schema, version 1. Applied at start-up under an advisory lock (see src/migrate.ts).
-- The SQL files are the source of truth; src/schema.ts mirrors them for typed queries and a
-- test checks that the two agree.

-- Spans. Partitioned by day on start time; retention drops whole partitions.
CREATE TABLE trace_steps (
  trace_id        text        NOT NULL,
  span_id         text        NOT NULL,
  parent_span_id  text,
  workflow_id     text        NOT NULL,
  workflow_type   text        NOT NULL,
  layer           text        NOT NULL,
  component       text        NOT NULL,
  name            text        NOT NULL,
  kind            smallint    NOT NULL DEFAULT 0,
  status_code     smallint    NOT NULL DEFAULT 0,
  status_message  text,
  is_error        boolean     NOT NULL DEFAULT false,
  start_time      timestamptz NOT NULL,
  end_time        timestamptz NOT NULL,
  duration_ms     double precision NOT NULL,
  user_id         text,
  scope_name      text,
  attributes      jsonb       NOT NULL DEFAULT '{}',
  resource        jsonb       NOT NULL DEFAULT '{}',
  events          jsonb       NOT NULL DEFAULT '[]',
  links           jsonb       NOT NULL DEFAULT '[]',
  ingested_at     timestamptz NOT NULL DEFAULT now(),
  -- The partition key must be part of every unique index; a retried span carries the same
  -- start time, so (trace_id, span_id, start_time) still makes re-delivery idempotent.
  PRIMARY KEY (trace_id, span_id, start_time)
) PARTITION BY RANGE (start_time);

CREATE TABLE trace_steps_default PARTITION OF trace_steps DEFAULT;

CREATE INDEX trace_steps_workflow_idx ON trace_steps (workflow_id, start_time);
CREATE INDEX trace_steps_component_idx ON trace_steps (component, start_time DESC);
CREATE INDEX trace_steps_type_idx ON trace_steps (workflow_type, start_time DESC);

-- One row per run of a workflow (correlation id).
CREATE TABLE workflow_sessions (
  workflow_id     text        PRIMARY KEY,
  workflow_type   text        NOT NULL,
  status          text        NOT NULL DEFAULT 'in_progress'
                  CHECK (status IN ('in_progress', 'completed', 'failed', 'timed_out')),
  user_id         text,
  first_trace_id  text,
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz NOT NULL,
  duration_ms     double precision GENERATED ALWAYS AS (extract(epoch FROM (ended_at - started_at)) * 1000) STORED,
  span_count      integer     NOT NULL DEFAULT 0,
  error_count     integer     NOT NULL DEFAULT 0,
  -- false when every span of the workflow was sampled out: the row and counts still exist.
  keep            boolean     NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Hot question 1: which workflows are still in progress (and which have timed out).
CREATE INDEX workflow_sessions_in_progress_idx ON workflow_sessions (started_at) WHERE status = 'in_progress';
CREATE INDEX workflow_sessions_type_idx ON workflow_sessions (workflow_type, started_at DESC);
CREATE INDEX workflow_sessions_status_idx ON workflow_sessions (status, started_at DESC);
CREATE INDEX workflow_sessions_started_idx ON workflow_sessions (started_at DESC);
CREATE INDEX workflow_sessions_user_idx ON workflow_sessions (user_id, started_at DESC) WHERE user_id IS NOT NULL;

-- One row per error span or exception event.
CREATE TABLE error_logs (
  id              bigserial   PRIMARY KEY,
  trace_id        text        NOT NULL,
  span_id         text        NOT NULL,
  -- 0 for the span's own error status, 1..n for its exception events in order.
  seq             integer     NOT NULL,
  correlation_id  text        NOT NULL,
  workflow_type   text        NOT NULL,
  layer           text        NOT NULL,
  component       text        NOT NULL,
  span_name       text        NOT NULL,
  severity        text        NOT NULL DEFAULT 'error',
  error_type      text        NOT NULL,
  message         text        NOT NULL DEFAULT '',
  stack           text,
  occurred_at     timestamptz NOT NULL,
  attributes      jsonb       NOT NULL DEFAULT '{}',
  resolved        boolean     NOT NULL DEFAULT false,
  resolved_by     text,
  resolved_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (trace_id, span_id, seq)
);

-- Hot question 2: unresolved errors, newest first.
CREATE INDEX error_logs_unresolved_idx ON error_logs (occurred_at DESC) WHERE resolved = false;
CREATE INDEX error_logs_correlation_idx ON error_logs (correlation_id);
CREATE INDEX error_logs_layer_idx ON error_logs (layer, occurred_at DESC);
CREATE INDEX error_logs_type_idx ON error_logs (error_type, occurred_at DESC);
CREATE INDEX error_logs_occurred_idx ON error_logs (occurred_at DESC);

-- Minute × workflow type × layer × component × metric; from every span, before sampling.
CREATE TABLE performance_snapshots (
  bucket_start    timestamptz NOT NULL,
  workflow_type   text        NOT NULL,
  layer           text        NOT NULL,
  component       text        NOT NULL,
  metric          text        NOT NULL,
  count           bigint      NOT NULL DEFAULT 0,
  error_count     bigint      NOT NULL DEFAULT 0,
  sum             double precision NOT NULL DEFAULT 0,
  min             double precision,
  max             double precision,
  -- counts per fixed histogram bucket; bounds live in code (storage/src/histogram.ts).
  buckets         bigint[]    NOT NULL DEFAULT '{}',
  PRIMARY KEY (bucket_start, workflow_type, layer, component, metric)
) PARTITION BY RANGE (bucket_start);

CREATE TABLE performance_snapshots_default PARTITION OF performance_snapshots DEFAULT;
CREATE INDEX performance_snapshots_scope_idx ON performance_snapshots (workflow_type, layer, metric, bucket_start);

CREATE TABLE alert_rules (
  id                     serial      PRIMARY KEY,
  name                   text        NOT NULL UNIQUE,
  description            text        NOT NULL DEFAULT '',
  metric                 text        NOT NULL,
  workflow_type          text,
  layer                  text,
  component              text,
  warning_threshold      double precision,
  critical_threshold     double precision,
  window_seconds         integer     NOT NULL DEFAULT 300,
  eval_interval_seconds  integer     NOT NULL DEFAULT 15,
  recipients             text[]      NOT NULL DEFAULT '{}',
  enabled                boolean     NOT NULL DEFAULT true,
  source                 text        NOT NULL DEFAULT 'user',
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alerts (
  id                   bigserial   PRIMARY KEY,
  rule_id              integer     NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  scope_key            text        NOT NULL DEFAULT '',
  severity             text        NOT NULL CHECK (severity IN ('warning', 'critical')),
  state                text        NOT NULL CHECK (state IN ('firing', 'resolved')),
  value                double precision NOT NULL,
  threshold            double precision NOT NULL,
  first_seen           timestamptz NOT NULL,
  last_seen            timestamptz NOT NULL,
  resolved_at          timestamptz,
  notification_status  text        NOT NULL DEFAULT 'pending',
  last_notified_at     timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_firing_idx ON alerts (rule_id, scope_key) WHERE state = 'firing';
CREATE INDEX alerts_created_idx ON alerts (created_at DESC);

CREATE TABLE email_outbox (
  id               bigserial   PRIMARY KEY,
  alert_id         bigint      REFERENCES alerts (id) ON DELETE SET NULL,
  idempotency_key  text        UNIQUE,
  recipients       text[]      NOT NULL,
  subject          text        NOT NULL,
  body_text        text        NOT NULL,
  body_html        text,
  status           text        NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'unsent')),
  attempts         integer     NOT NULL DEFAULT 0,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
CREATE INDEX email_outbox_pending_idx ON email_outbox (created_at) WHERE status IN ('pending', 'sending');

CREATE TABLE api_tokens (
  id            serial      PRIMARY KEY,
  name          text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'viewer')),
  token_hash    text        NOT NULL UNIQUE,
  token_prefix  text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- Creates the daily partitions of a day-partitioned table for [p_from, p_from + p_days).
-- Rows that landed in the default partition for one of those days (a span with an odd
-- timestamp) are moved into the new partition, so creation never fails on them.
-- Returns the number of partitions created. Safe to call concurrently (advisory lock).
CREATE FUNCTION flowscope_ensure_partitions(p_table text, p_from date, p_days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  d date;
  part text;
  col text;
  created integer := 0;
  moved boolean;
BEGIN
  IF p_table NOT IN ('trace_steps', 'performance_snapshots') THEN
    RAISE EXCEPTION 'flowscope_ensure_partitions: % is not a partitioned flowscope table', p_table;
  END IF;
  col := CASE p_table WHEN 'trace_steps' THEN 'start_time' ELSE 'bucket_start' END;
  PERFORM pg_advisory_xact_lock(hashtext('flowscope_partitions'));
  FOR i IN 0 .. p_days - 1 LOOP
    d := p_from + i;
    part := p_table || '_p' || to_char(d, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(part) IS NOT NULL;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz)',
                   p_table || '_default', col, d::text || ' 00:00:00+00', col, (d + 1)::text || ' 00:00:00+00')
      INTO moved;
    IF moved THEN
      EXECUTE format('CREATE TEMP TABLE fs_move ON COMMIT DROP AS SELECT * FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz',
                     p_table || '_default', col, d::text || ' 00:00:00+00', col, (d + 1)::text || ' 00:00:00+00');
      EXECUTE format('DELETE FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz',
                     p_table || '_default', col, d::text || ' 00:00:00+00', col, (d + 1)::text || ' 00:00:00+00');
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                   part, p_table, d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
    IF moved THEN
      EXECUTE format('INSERT INTO %I SELECT * FROM fs_move', p_table);
      DROP TABLE fs_move;
    END IF;
    created := created + 1;
  END LOOP;
  RETURN created;
END $$;

-- Drops the daily partitions of p_table whose whole day is before p_before. Returns their names.
CREATE FUNCTION flowscope_drop_partitions_before(p_table text, p_before date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF p_table NOT IN ('trace_steps', 'performance_snapshots') THEN
    RAISE EXCEPTION 'flowscope_drop_partitions_before: % is not a partitioned flowscope table', p_table;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('flowscope_partitions'));
  FOR r IN
    SELECT c.relname
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = p_table AND c.relname ~ ('^' || p_table || '_p[0-9]{8}$')
    ORDER BY c.relname
  LOOP
    IF to_date(right(r.relname, 8), 'YYYYMMDD') < p_before THEN
      EXECUTE format('DROP TABLE %I', r.relname);
      RETURN NEXT r.relname;
    END IF;
  END LOOP;
END $$;
