import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { errorLogs, type ErrorLogRecord } from '../schema.ts';
import { atOrAfterIf, beforeIf, eqIf, pageOfRows, run, snakeColumns, type Page, type Paged, type Queryable, type SnakeRow } from '../sql.ts';

/**
 * Error reader (error_logs: error spans and exception events), written with drizzle. Contract:
 * - rows are `ErrorRow`: ids as numbers, times ISO-8601 UTC with microseconds;
 * - lists are newest first (occurred_at DESC, id DESC); `from` inclusive, `to` exclusive;
 * - resolving records who and when; unresolving clears both; a missing error is `undefined`.
 */

/** One error_logs row as every reader returns it (every column but created_at). */
export type ErrorRow = SnakeRow<Omit<ErrorLogRecord, 'createdAt'>>;

const ERROR_COLUMNS = snakeColumns(errorLogs, ['createdAt']);

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
  const where = and(
    eqIf(errorLogs.layer, f.layer),
    eqIf(errorLogs.severity, f.severity),
    eqIf(errorLogs.errorType, f.errorType),
    eqIf(errorLogs.workflowType, f.workflowType),
    eqIf(errorLogs.correlationId, f.correlationId),
    eqIf(errorLogs.component, f.component),
    eqIf(errorLogs.resolved, f.resolved),
    atOrAfterIf(errorLogs.occurredAt, f.fromMs),
    beforeIf(errorLogs.occurredAt, f.toMs),
  );
  const rows = db.drizzle.select(ERROR_COLUMNS).from(errorLogs).where(where).orderBy(desc(errorLogs.occurredAt), desc(errorLogs.id));
  return pageOfRows(db, errorLogs, where, rows, page);
}

export async function getError(db: Queryable, id: number): Promise<ErrorRow | undefined> {
  const [row] = await run(db.drizzle.select(ERROR_COLUMNS).from(errorLogs).where(eq(errorLogs.id, id)));
  return row;
}

/** What a workflow page shows of each of its errors. */
export type WorkflowErrorRow = Pick<
  ErrorRow,
  'id' | 'trace_id' | 'span_id' | 'layer' | 'component' | 'span_name' | 'severity' | 'error_type' | 'message' | 'occurred_at' | 'resolved'
>;

/** The errors of one workflow, oldest first (at most `limit`), in the short shape a workflow page shows. */
export function errorsOfWorkflow(db: Queryable, workflowId: string, limit = 1000): Promise<WorkflowErrorRow[]> {
  const c = ERROR_COLUMNS;
  return run(
    db.drizzle
      .select({
        id: c.id, trace_id: c.trace_id, span_id: c.span_id, layer: c.layer, component: c.component, span_name: c.span_name,
        severity: c.severity, error_type: c.error_type, message: c.message, occurred_at: c.occurred_at, resolved: c.resolved,
      })
      .from(errorLogs)
      .where(eq(errorLogs.correlationId, workflowId))
      .orderBy(asc(errorLogs.occurredAt), asc(errorLogs.id))
      .limit(limit),
  );
}

/** Marks an error resolved (by whom, now) or unresolved again. Returns the row, or undefined. */
export async function setErrorResolved(db: Queryable, id: number, resolution: { resolved: true; by: string | null } | { resolved: false }): Promise<ErrorRow | undefined> {
  const set = resolution.resolved
    ? { resolved: true, resolvedBy: resolution.by, resolvedAt: sql`now()` }
    : { resolved: false, resolvedBy: null, resolvedAt: null };
  const [row] = await run(db.drizzle.update(errorLogs).set(set).where(eq(errorLogs.id, id)).returning(ERROR_COLUMNS));
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
export function unresolvedErrorCounts(db: Queryable, limit = 100): Promise<UnresolvedErrorCount[]> {
  const count = sql<number>`count(*)::int`.mapWith(Number);
  return run(
    db.drizzle
      .select({ layer: errorLogs.layer, severity: errorLogs.severity, error_type: errorLogs.errorType, count })
      .from(errorLogs)
      .where(eq(errorLogs.resolved, false))
      .groupBy(errorLogs.layer, errorLogs.severity, errorLogs.errorType)
      .orderBy(desc(count), asc(errorLogs.layer), asc(errorLogs.severity), asc(errorLogs.errorType))
      .limit(limit),
  );
}
