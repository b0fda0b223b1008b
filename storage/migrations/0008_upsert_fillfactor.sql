-- Room for HOT updates in the tables every flush upserts (issue 12). performance_snapshots,
-- performance_rollups and operation_stats rows are updated in place again and again (counts and
-- histograms add up); with full pages every update was a new tuple on another page plus an
-- entry in every index of the table, and the dead tuples waited for vacuum. Measured on this
-- machine with psql (a flush's 206 minute and 416 roll-up rows upserted into copies of
-- the two tables, 30 flushes): fillfactor 100: 0 of 17,864 updates HOT, 18 MB after the run, 484–590 ms per 6
-- flushes; fillfactor 50: all HOT, 1.2 MB, 308–374 ms. PostgreSQL keeps storage parameters
-- per partition (a partitioned table has none), so the default partitions carry them and
-- flowscope_ensure_partitions (replaced here, same signature, otherwise as in 0005) gives new
-- daily partitions the parameters of their table's default partition. Existing partitions get
-- the parameter now (it applies to pages filled from now on). trace_steps is insert-only and
-- keeps full pages.

-- Creates the daily partitions of a day-partitioned table for [p_from, p_from + p_days), with
-- the storage parameters (reloptions) of its <table>_default partition.
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
  opts text;
BEGIN
  col := flowscope_partition_column(p_table, 'flowscope_ensure_partitions');
  -- New partitions get the storage parameters of the default partition (see below).
  SELECT coalesce(' WITH (' || array_to_string(c.reloptions, ', ') || ')', '') INTO opts
    FROM pg_class c WHERE c.oid = to_regclass(quote_ident(p_table || '_default'));
  opts := coalesce(opts, '');
  PERFORM pg_advisory_xact_lock(hashtext('flowscope_partitions'));
  FOR i IN 0 .. p_days - 1 LOOP
    d := p_from + i;
    part := p_table || '_p' || to_char(d, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(quote_ident(part)) IS NOT NULL;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz)',
                   p_table || '_default', col, d::text || ' 00:00:00+00', col, (d + 1)::text || ' 00:00:00+00')
      INTO moved;
    IF moved THEN
      EXECUTE format('CREATE TEMP TABLE fs_move ON COMMIT DROP AS SELECT * FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz',
                     p_table || '_default', col, d::text || ' 00:00:00+00', col, (d + 1)::text || ' 00:00:00+00');
      EXECUTE format('DELETE FROM %I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz',
                     p_table || '_default', col, d::text || ' 00:00:00+00', col, (d + 1)::text || ' 00:00:00+00');
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)%s',
                   part, p_table, d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00', opts);
    IF moved THEN
      EXECUTE format('INSERT INTO %I SELECT * FROM fs_move', p_table);
      DROP TABLE fs_move;
    END IF;
    created := created + 1;
  END LOOP;
  RETURN created;
END $$;

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.relname
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relname IN ('performance_snapshots', 'performance_rollups', 'operation_stats')
  LOOP
    EXECUTE format('ALTER TABLE %I SET (fillfactor = 50)', r.relname);
  END LOOP;
END $$;
