import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropExpiredPartitions, ensurePartitions, listPartitions, migrate, PARTITIONED_TABLES, type Database } from '../src/index.ts';
import { loadMigrations } from '../src/migrate.ts';
import { openPostgres } from '../src/driver.ts';
import { createTestDatabase, openTestDatabase, type Driver } from '../src/testing.ts';

/**
 * Partition maintenance reads the tables it may manage from the catalog (migration 0005): any
 * table partitioned by range on one timestamptz column with a <table>_default partition, so a
 * new table needs no new copy of the functions; anything else is refused.
 */
describe.each<Driver>(['postgres', 'pglite'])('partition functions on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
  });
  afterAll(async () => dispose());

  it('every flowscope table still gets its daily partitions', async () => {
    await ensurePartitions(db, new Date(Date.UTC(2030, 4, 10)), 1);
    for (const table of PARTITIONED_TABLES) expect(await listPartitions(db, table)).toContain(`${table}_p20300510`);
  });

  it('upserted tables get partitions with room for HOT updates (fillfactor of their default partition, migration 0008); trace_steps full pages', async () => {
    await ensurePartitions(db, new Date(Date.UTC(2030, 4, 12)), 1);
    const opts = async (name: string) =>
      (await db.query<{ o: string | null }>(`SELECT array_to_string(reloptions, ',') AS o FROM pg_class WHERE relname = $1`, [name]))[0]?.o ?? null;
    for (const table of ['performance_snapshots', 'performance_rollups', 'operation_stats']) {
      expect(await opts(`${table}_default`)).toBe('fillfactor=50');
      expect(await opts(`${table}_p20300512`)).toBe('fillfactor=50');
    }
    expect(await opts('trace_steps_p20300512')).toBeNull();
    expect(await opts('trace_steps_default')).toBeNull();
  });

  it('a new day-partitioned table works without redefining the functions: rows move out of its default partition, old days drop', async () => {
    await db.query('CREATE TABLE fs_extra (seen_at timestamptz NOT NULL, v integer) PARTITION BY RANGE (seen_at)');
    await db.query('CREATE TABLE fs_extra_default PARTITION OF fs_extra DEFAULT');
    await db.query(`INSERT INTO fs_extra VALUES ('2030-01-02T05:00:00Z', 1), ('2030-01-03T23:59:59Z', 2), ('2030-02-01T00:00:00Z', 3)`);
    const [r] = await db.query<{ n: number }>(`SELECT flowscope_ensure_partitions('fs_extra', '2030-01-01', 3) AS n`);
    expect(Number(r!.n)).toBe(3);
    const where = async (name: string) => (await db.query<{ v: number }>(`SELECT v FROM ${name} ORDER BY v`)).map((x) => Number(x.v));
    expect(await where('fs_extra_p20300102')).toEqual([1]);
    expect(await where('fs_extra_p20300103')).toEqual([2]);
    expect(await where('fs_extra_default')).toEqual([3]);
    const dropped = await db.query<{ name: string }>(`SELECT flowscope_drop_partitions_before('fs_extra', '2030-01-03') AS name`);
    expect(dropped.map((d) => d.name)).toEqual(['fs_extra_p20300101', 'fs_extra_p20300102']);
    expect(await where('fs_extra')).toEqual([2, 3]);
  });

  it.each([
    ['a table that is not partitioned', 'alert_rules', ''],
    ['a table that does not exist', 'no_such_table', ''],
    ['a partitioned table without a default partition', 'fs_nodefault', 'CREATE TABLE fs_nodefault (at timestamptz NOT NULL) PARTITION BY RANGE (at)'],
    ['a table partitioned on a column that is not a timestamptz', 'fs_bytext', 'CREATE TABLE fs_bytext (k text NOT NULL) PARTITION BY RANGE (k); CREATE TABLE fs_bytext_default PARTITION OF fs_bytext DEFAULT'],
    ['a name that is not an identifier', 'trace_steps; DROP TABLE alert_rules', ''],
  ])('refuses %s', async (_what, table, setup) => {
    for (const stmt of setup.split(';').filter((s) => s.trim())) await db.query(stmt);
    await expect(db.query('SELECT flowscope_ensure_partitions($1, $2::date, 1)', [table, '2030-01-01'])).rejects.toThrow(
      `flowscope_ensure_partitions: ${table} is not a partitioned flowscope table`,
    );
    await expect(db.query('SELECT flowscope_drop_partitions_before($1, $2::date)', [table, '2030-01-01'])).rejects.toThrow(
      `flowscope_drop_partitions_before: ${table} is not a partitioned flowscope table`,
    );
    expect(await db.query(`SELECT 1 FROM alert_rules LIMIT 1`)).toBeDefined(); // still there
  });

  it('dropExpiredPartitions still drops whole old days of a flowscope table', async () => {
    await ensurePartitions(db, new Date(Date.UTC(2001, 0, 2)), 1);
    const dropped = await dropExpiredPartitions(db, 'operation_stats', 30);
    expect(dropped).toContain('operation_stats_p20010101');
  });
});

describe('migration 0005 on a database migrated before it', () => {
  it('applies over 0001–0004 and keeps the partitions already made', async () => {
    const t = await createTestDatabase();
    const db = openPostgres({ url: t.url, maxConnections: 2 });
    try {
      const all = loadMigrations();
      const before = all.filter((m) => m.version < '0005');
      expect(await migrate(db, before)).toEqual(before.map((m) => m.version));
      await db.query(`SELECT flowscope_ensure_partitions('trace_steps', '2030-03-01', 1)`);
      expect(await migrate(db, all)).toEqual(all.filter((m) => m.version >= '0005').map((m) => m.version));
      expect(await listPartitions(db, 'trace_steps')).toContain('trace_steps_p20300301');
      const [r] = await db.query<{ n: number }>(`SELECT flowscope_ensure_partitions('trace_steps', '2030-03-01', 2) AS n`);
      expect(Number(r!.n)).toBe(1);
    } finally {
      await db.close();
      await t.drop();
    }
  });
});
