import { asc, count, eq } from 'drizzle-orm';
import { workflowSessions, type WorkflowSessionRecord, type WorkflowStatus } from '../schema.ts';
import { Where, iso, isoOrUndefined, pageOf, run, type Page, type Paged, type Queryable, type SnakeRow } from '../sql.ts';

/**
 * Workflow reader (workflow_sessions). Contract:
 * - rows are `WorkflowRow`: times as ISO-8601 UTC with microseconds, `stored` = the session's keep flag;
 * - lists are newest first unless another WORKFLOW_SORTS order is asked for (ties by workflow_id), filters combine with AND,
 *   `from` is inclusive and `to` exclusive on started_at, durations inclusive on both ends;
 * - a missing workflow is `undefined`, never an error;
 * - the list, one and several workflows are raw SQL (the list is a hot path: filters and sorts
 *   on indexed columns, see WORKFLOW_SORTS), typed by `WorkflowRow` from schema.ts; the
 *   in-progress count per type is drizzle.
 */
export const WORKFLOW_STATUSES = ['in_progress', 'completed', 'failed', 'timed_out'] as const satisfies readonly WorkflowStatus[];

/** One workflow_sessions row as every reader returns it: every column but the bookkeeping times, `keep` as `stored`. */
export type WorkflowRow = SnakeRow<Omit<WorkflowSessionRecord, 'keep' | 'createdAt' | 'updatedAt'>> & { stored: WorkflowSessionRecord['keep'] };

const WORKFLOW_COLUMNS = `workflow_id, workflow_type, status, user_id, first_trace_id,
  ${iso('started_at')} AS started_at, ${iso('ended_at')} AS ended_at, duration_ms, span_count, error_count, keep AS stored`;

/**
 * Orders of the workflow list: a column, descending with a leading `-`; ties by start time then id.
 * `ws.started_at` is the column: a bare `started_at` in ORDER BY names the select list's ISO text
 * of it (same order, but no index can give it: the newest-first page read and sorted every
 * session of the type in the range, 6,520 heap pages for an hour at 10M spans, bench/README.md).
 */
export const WORKFLOW_SORTS: Record<string, string> = {
  '-started_at': 'ws.started_at DESC',
  started_at: 'ws.started_at ASC',
  '-duration_ms': 'duration_ms DESC NULLS LAST, ws.started_at DESC',
  duration_ms: 'duration_ms ASC NULLS LAST, ws.started_at DESC',
  '-error_count': 'error_count DESC, ws.started_at DESC',
  '-span_count': 'span_count DESC, ws.started_at DESC',
};

export interface WorkflowFilter {
  workflowType?: string | undefined;
  status?: WorkflowStatus | undefined;
  userId?: string | undefined;
  /** started at or after (ms since the epoch) */
  fromMs?: number | undefined;
  /** started before (ms since the epoch) */
  toMs?: number | undefined;
  minDurationMs?: number | undefined;
  maxDurationMs?: number | undefined;
  hasErrors?: boolean | undefined;
}

/** A page of workflows matching `f` in the order `sort` (a WORKFLOW_SORTS key; default newest first), with the total count. */
export function listWorkflows(db: Queryable, f: WorkflowFilter, page: Page, sort = '-started_at'): Promise<Paged<WorkflowRow>> {
  const w = new Where()
    .add('workflow_type = ?', f.workflowType)
    .add('status = ?', f.status)
    .add('user_id = ?', f.userId)
    .add('started_at >= ?::timestamptz', isoOrUndefined(f.fromMs))
    .add('started_at < ?::timestamptz', isoOrUndefined(f.toMs))
    .add('duration_ms >= ?::float8', f.minDurationMs)
    .add('duration_ms <= ?::float8', f.maxDurationMs);
  if (f.hasErrors === true) w.add('error_count > 0');
  if (f.hasErrors === false) w.add('error_count = 0');
  return pageOf<WorkflowRow>(db, { from: 'workflow_sessions ws', columns: WORKFLOW_COLUMNS, orderBy: `${WORKFLOW_SORTS[sort] ?? WORKFLOW_SORTS['-started_at']}, workflow_id` }, w, page);
}

/** One workflow by id, or undefined. */
export async function getWorkflow(db: Queryable, workflowId: string): Promise<WorkflowRow | undefined> {
  const [row] = await db.query<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} FROM workflow_sessions WHERE workflow_id = $1`, [workflowId]);
  return row;
}

/** The workflows with these ids (any order; unknown ids are left out). */
export function getWorkflows(db: Queryable, workflowIds: readonly string[]): Promise<WorkflowRow[]> {
  return db.query<WorkflowRow>(`SELECT ${WORKFLOW_COLUMNS} FROM workflow_sessions WHERE workflow_id = ANY($1::text[])`, [workflowIds]);
}

/** In-progress workflows per type (at most `limit` types, by type name). */
export function activeWorkflowsByType(db: Queryable, limit = 1000): Promise<{ workflow_type: string; n: number }[]> {
  const ws = workflowSessions;
  return run(
    db.drizzle
      .select({ workflow_type: ws.workflowType, n: count() })
      .from(ws)
      .where(eq(ws.status, 'in_progress'))
      .groupBy(ws.workflowType)
      .orderBy(asc(ws.workflowType))
      .limit(limit),
  );
}
