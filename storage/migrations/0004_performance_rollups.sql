-- Roll-ups of performance_snapshots (issue 12: a 24-hour series read 36,000 minute rows per
-- workflow type). The same rows at coarser resolutions, bucket_seconds 300 (five minutes) and
-- 3600 (an hour), written at ingest in the same statement as the minute rows (no extra round
-- trip), so they are exact: a roll-up row is the sum of the minute rows it covers. The series
-- reader takes the coarsest resolution that divides its step and reads minute rows only for
-- the tail of the range that a roll-up bucket would overrun. Besides one row per layer and
-- component, each workflow type has a row with layer = component = '*' summing all of them
-- (what a series without a layer or component filter or grouping reads: one row per bucket
-- instead of one per layer × component). Partitioned by day like
-- performance_snapshots and dropped with it (FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS).
CREATE TABLE performance_rollups (
  bucket_start    timestamptz NOT NULL,
  bucket_seconds  integer     NOT NULL,
  workflow_type   text        NOT NULL,
  layer           text        NOT NULL,
  component       text        NOT NULL,
  metric          text        NOT NULL,
  count           bigint      NOT NULL DEFAULT 0,
  error_count     bigint      NOT NULL DEFAULT 0,
  sum             double precision NOT NULL DEFAULT 0,
  min             double precision,
  max             double precision,
  buckets         bigint[]    NOT NULL DEFAULT '{}',
  PRIMARY KEY (bucket_seconds, bucket_start, workflow_type, layer, component, metric)
) PARTITION BY RANGE (bucket_start);

CREATE TABLE performance_rollups_default PARTITION OF performance_rollups DEFAULT;
CREATE INDEX performance_rollups_scope_idx ON performance_rollups (bucket_seconds, workflow_type, metric, bucket_start);

-- Backfill from the minute rows already stored.
WITH k AS (
  SELECT to_timestamp(floor(extract(epoch FROM p.bucket_start) / r.secs) * r.secs) AS rs, r.secs, p.bucket_start, p.workflow_type,
         CASE WHEN a.all_ THEN '*' ELSE p.layer END AS layer, CASE WHEN a.all_ THEN '*' ELSE p.component END AS component,
         p.metric, p.count, p.error_count, p.sum, p.min, p.max, p.buckets
    FROM performance_snapshots p, (VALUES (300), (3600)) AS r(secs), (VALUES (false), (true)) AS a(all_)
), scalars AS (
  SELECT rs, secs, workflow_type, layer, component, metric, sum(count)::bigint AS count, sum(error_count)::bigint AS error_count,
         sum(sum) AS sum, min(min) AS min, max(max) AS max
    FROM k GROUP BY 1, 2, 3, 4, 5, 6
), hist AS (
  SELECT rs, secs, workflow_type, layer, component, metric, array_agg(n ORDER BY i) AS buckets
    FROM (SELECT rs, secs, workflow_type, layer, component, metric, u.i, sum(u.v)::bigint AS n
            FROM k, unnest(k.buckets) WITH ORDINALITY AS u(v, i) GROUP BY 1, 2, 3, 4, 5, 6, 7) c
   GROUP BY 1, 2, 3, 4, 5, 6
)
INSERT INTO performance_rollups (bucket_start, bucket_seconds, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets)
SELECT s.rs, s.secs, s.workflow_type, s.layer, s.component, s.metric, s.count, s.error_count, s.sum, s.min, s.max, coalesce(h.buckets, '{}')
  FROM scalars s LEFT JOIN hist h USING (rs, secs, workflow_type, layer, component, metric);

CREATE OR REPLACE FUNCTION flowscope_ensure_partitions(p_table text, p_from date, p_days integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  d date;
  part text;
  col text;
  created integer := 0;
  moved boolean;
BEGIN
  IF p_table NOT IN ('trace_steps', 'performance_snapshots', 'operation_stats', 'performance_rollups') THEN
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

CREATE OR REPLACE FUNCTION flowscope_drop_partitions_before(p_table text, p_before date)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  IF p_table NOT IN ('trace_steps', 'performance_snapshots', 'operation_stats', 'performance_rollups') THEN
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
