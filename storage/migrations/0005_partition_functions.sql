-- Partition maintenance without a list of tables. 0001 defined flowscope_ensure_partitions and
-- flowscope_drop_partitions_before with the partitioned tables named in them, so 0003 and 0004
-- had to repeat both functions whole to add a table. Here they learn what they need from the
-- catalog instead: a table qualifies when it is in the current schema, partitioned BY RANGE on
-- one timestamptz column (that column is the one rows are moved by), and has a default
-- partition named <table>_default. A later table partitioned that way needs no new function.
-- Anything else is refused as before. Applied migrations are not edited: this one replaces the
-- functions (same signatures, same behaviour for the existing tables).

-- The partition column of a day-partitioned flowscope table; raises for anything else.
CREATE OR REPLACE FUNCTION flowscope_partition_column(p_table text, p_caller text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  col text;
BEGIN
  SELECT a.attname INTO col
    FROM pg_partitioned_table pt
    JOIN pg_class c ON c.oid = pt.partrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = pt.partattrs[0]
   WHERE c.relname = p_table
     AND n.nspname = current_schema()
     AND pt.partstrat = 'r'
     AND pt.partnatts = 1
     AND a.atttypid = 'timestamptz'::regtype
     AND EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class d ON d.oid = i.inhrelid
                  WHERE i.inhparent = c.oid AND d.relname = p_table || '_default');
  IF col IS NULL THEN
    RAISE EXCEPTION '%: % is not a partitioned flowscope table', p_caller, p_table;
  END IF;
  RETURN col;
END $$;

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
  col := flowscope_partition_column(p_table, 'flowscope_ensure_partitions');
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
  PERFORM flowscope_partition_column(p_table, 'flowscope_drop_partitions_before');
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
