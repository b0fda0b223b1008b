import type { Database } from './driver.ts';

export const PARTITIONED_TABLES = ['trace_steps', 'performance_snapshots', 'operation_stats', 'performance_rollups'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Creates daily partitions from yesterday through `daysAhead` days after `now` for every
 * partitioned table. Idempotent; called at start-up and by the maintenance job.
 * Returns how many partitions were created.
 */
export async function ensurePartitions(db: Database, now = new Date(), daysAhead = 3): Promise<number> {
  const from = new Date(now.getTime() - 86_400_000);
  let created = 0;
  for (const table of PARTITIONED_TABLES) {
    const rows = await db.query<{ n: number }>('SELECT flowscope_ensure_partitions($1, $2::date, $3) AS n', [
      table,
      day(from),
      daysAhead + 2,
    ]);
    created += Number(rows[0]?.n ?? 0);
  }
  return created;
}

/** Drops whole partitions of `table` older than `retentionDays` before `now`. Returns their names. */
export async function dropExpiredPartitions(
  db: Database,
  table: PartitionedTable,
  retentionDays: number,
  now = new Date(),
): Promise<string[]> {
  const before = new Date(now.getTime() - retentionDays * 86_400_000);
  const rows = await db.query<{ name: string }>('SELECT flowscope_drop_partitions_before($1, $2::date) AS name', [
    table,
    day(before),
  ]);
  return rows.map((r) => r.name);
}

export async function listPartitions(db: Database, table: PartitionedTable): Promise<string[]> {
  const rows = await db.query<{ relname: string }>(
    `SELECT c.relname FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = $1 ORDER BY c.relname`,
    [table],
  );
  return rows.map((r) => r.relname);
}
