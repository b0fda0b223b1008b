import { Where, iso, isoOrUndefined, pageOf, type Page, type Paged, type Queryable } from '../sql.ts';

/**
 * Error reader (error_logs: error spans and exception events). Contract:
 * - rows are `ErrorRow`: ids as numbers, times ISO-8601 UTC with microseconds;
 * - lists are newest first (occurred_at DESC, id DESC); `from` inclusive, `to` exclusive;
 * - resolving records who and when; unresolving clears both; a missing error is `undefined`.
 */

/** One error_logs row as every reader returns it. */
export interface ErrorRow {
  id: number;
  trace_id: string;
  span_id: string;
  seq: number;
  correlation_id: string;
  workflow_type: string;
  layer: string;
  component: string;
  span_name: string;
  severity: string;
  error_type: string;
  message: string;
  stack: string | null;
  occurred_at: string;
  attributes: Record<string, unknown>;
  resolved: boolean;
  resolved_by: string | null;
  resolved_at: string | null;
}

const ERROR_COLUMNS = `id::float8 AS id, trace_id, span_id, seq, correlation_id, workflow_type, layer, component, span_name,
  severity, error_type, message, stack, ${iso('occurred_at')} AS occurred_at, attributes, resolved, resolved_by,
  ${iso('resolved_at')} AS resolved_at`;

export interface ErrorFilter {
  layer?: string | undefined;
  severity?: string | undefined;
  errorType?: string | undefined;
  workflowType?: string | undefined;
  correlationId?: string | undefined;
  component?: string | undefined;
  resolved?: boolean | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
}

export function listErrors(db: Queryable, f: ErrorFilter, page: Page): Promise<Paged<ErrorRow>> {
  const w = new Where()
    .add('layer = ?', f.layer)
    .add('severity = ?', f.severity)
    .add('error_type = ?', f.errorType)
    .add('workflow_type = ?', f.workflowType)
    .add('correlation_id = ?', f.correlationId)
    .add('component = ?', f.component)
    .add('resolved = ?', f.resolved)
    .add('occurred_at >= ?::timestamptz', isoOrUndefined(f.fromMs))
    .add('occurred_at < ?::timestamptz', isoOrUndefined(f.toMs));
  return pageOf<ErrorRow>(db, { from: 'error_logs', columns: ERROR_COLUMNS, orderBy: 'occurred_at DESC, id DESC' }, w, page);
}

export async function getError(db: Queryable, id: number): Promise<ErrorRow | undefined> {
  const [row] = await db.query<ErrorRow>(`SELECT ${ERROR_COLUMNS} FROM error_logs WHERE id = $1`, [id]);
  return row;
}

/** The errors of one workflow, oldest first (at most `limit`), in the short shape a workflow page shows. */
export function errorsOfWorkflow(
  db: Queryable,
  workflowId: string,
  limit = 1000,
): Promise<Pick<ErrorRow, 'id' | 'trace_id' | 'span_id' | 'layer' | 'component' | 'span_name' | 'severity' | 'error_type' | 'message' | 'occurred_at' | 'resolved'>[]> {
  return db.query(
    `SELECT id::float8 AS id, trace_id, span_id, layer, component, span_name, severity, error_type, message,
            ${iso('occurred_at')} AS occurred_at, resolved
       FROM error_logs WHERE correlation_id = $1 ORDER BY occurred_at, id LIMIT $2`,
    [workflowId, limit],
  );
}

/** Marks an error resolved (by whom, now) or unresolved again. Returns the row, or undefined. */
export async function setErrorResolved(db: Queryable, id: number, resolution: { resolved: true; by: string | null } | { resolved: false }): Promise<ErrorRow | undefined> {
  const [row] = resolution.resolved
    ? await db.query<ErrorRow>(
        `UPDATE error_logs SET resolved = true, resolved_by = $2, resolved_at = now() WHERE id = $1 RETURNING ${ERROR_COLUMNS}`,
        [id, resolution.by],
      )
    : await db.query<ErrorRow>(
        `UPDATE error_logs SET resolved = false, resolved_by = NULL, resolved_at = NULL WHERE id = $1 RETURNING ${ERROR_COLUMNS}`,
        [id],
      );
  return row;
}

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
export async function unresolvedErrorCounts(db: Pick<Queryable, 'query'>, limit = 100): Promise<UnresolvedErrorCount[]> {
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
