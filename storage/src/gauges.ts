import type { Database } from './driver.ts';

export interface UnresolvedErrorCount {
  layer: string;
  severity: string;
  error_type: string;
  count: number;
}

/**
 * Unresolved errors by layer, severity and error type (the partial index on `resolved = false`
 * serves it), largest groups first, at most `limit` groups so a gauge built on it stays bounded.
 */
export async function unresolvedErrorCounts(db: Pick<Database, 'query'>, limit = 100): Promise<UnresolvedErrorCount[]> {
  const rows = await db.query<UnresolvedErrorCount>(
    `SELECT layer, severity, error_type, count(*)::int AS count
       FROM error_logs WHERE resolved = false
      GROUP BY layer, severity, error_type
      ORDER BY count DESC, layer, severity, error_type
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, count: Number(r.count) }));
}
