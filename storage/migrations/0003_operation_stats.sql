-- Per-operation statistics (issue: root cause). One row per time bucket × workflow type ×
-- layer × component × operation (the span name, normalised: ids, numbers and literals
-- replaced; capped per service, the rest counted as `other`), from every span before sampling,
-- so baselines are not biased by it. Two resolutions in one table: minute rows (what an alert
-- window reads) and hour rows (what baselines over a day read), both written at ingest, so a
-- baseline over 24 hours reads 24 rows per operation, not 1,440. Partitioned by day like
-- performance_snapshots and dropped with it.
CREATE TABLE operation_stats (
  bucket_start    timestamptz NOT NULL,
  bucket_seconds  integer     NOT NULL,
  workflow_type   text        NOT NULL,
  layer           text        NOT NULL,
  component       text        NOT NULL,
  operation       text        NOT NULL,
  count           bigint      NOT NULL DEFAULT 0,
  error_count     bigint      NOT NULL DEFAULT 0,
  sum             double precision NOT NULL DEFAULT 0,
  self_sum        double precision NOT NULL DEFAULT 0,
  min             double precision,
  max             double precision,
  -- duration and self-time histograms; bounds live in code (storage/src/histogram.ts).
  buckets         bigint[]    NOT NULL DEFAULT '{}',
  self_buckets    bigint[]    NOT NULL DEFAULT '{}',
  PRIMARY KEY (bucket_start, bucket_seconds, workflow_type, layer, component, operation)
) PARTITION BY RANGE (bucket_start);

CREATE TABLE operation_stats_default PARTITION OF operation_stats DEFAULT;
CREATE INDEX operation_stats_scope_idx ON operation_stats (bucket_seconds, workflow_type, component, bucket_start);

-- Creates the daily partitions of a day-partitioned table for [p_from, p_from + p_days).
-- Rows that landed in the default partition for one of those days (a span with an odd
-- timestamp) are moved into the new partition, so creation never fails on them.
-- Returns the number of partitions created. Safe to call concurrently (advisory lock).
CREATE OR REPLACE FUNCTION flowscope_ensure_partitions(p_table text, p_from date, p_days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  d date;
  part text;
  col text;
  created integer := 0;
  moved boolean;
BEGIN
  IF p_table NOT IN ('trace_steps', 'performance_snapshots', 'operation_stats') THEN
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
CREATE OR REPLACE FUNCTION flowscope_drop_partitions_before(p_table text, p_before date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF p_table NOT IN ('trace_steps', 'performance_snapshots', 'operation_stats') THEN
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
