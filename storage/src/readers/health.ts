import { count, eq, gte, sql, type SQL } from 'drizzle-orm';
import { alertRules, alerts, errorLogs, workflowSessions } from '../schema.ts';
import { snapshotsWithPending } from '../snapshots.ts';
import { run, type Queryable } from '../sql.ts';
import { activeWorkflowsByType } from './workflows.ts';

/**
 * System health counts for dashboards and on-call. Contract: counts come from the partial
 * indexes (in-progress workflows, unresolved errors); ingest from the span snapshots of the
 * last five full minutes plus the current one (every span, sampled or not; pending rows too); alert counts from
 * firing alerts and enabled rules. All numbers, never null. Written with drizzle (counts with
 * FILTER as SQL fragments over the schema's columns), but for ingest (raw SQL over snapshotsWithPending).
 */
export interface HealthCounts {
  activeWorkflows: number;
  activeByType: { workflow_type: string; n: number }[];
  failedLastHour: number;
  timedOutLastHour: number;
  unresolvedErrors: number;
  spansLast5m: number;
  errorsLast5m: number;
  alertsFiring: number;
  alertsFiringWarning: number;
  alertsFiringCritical: number;
  rulesEnabled: number;
}

/** `count(*) FILTER (WHERE cond)` as a number. */
const countWhere = (cond: SQL) => sql`count(*) FILTER (WHERE ${cond})::int`.mapWith(Number);

export async function healthCounts(db: Queryable): Promise<HealthCounts> {
  const d = db.drizzle;
  const ws = workflowSessions;
  const [activeWorkflows, activeByType, [finished], unresolvedErrors, [ingest], [firing], rulesEnabled] = await Promise.all([
    run(d.$count(ws, eq(ws.status, 'in_progress'))),
    activeWorkflowsByType(db, 1000),
    run(
      d.select({ failed: countWhere(eq(ws.status, 'failed')), timed_out: countWhere(eq(ws.status, 'timed_out')) })
        .from(ws)
        .where(gte(ws.startedAt, sql`now() - interval '1 hour'`)),
    ),
    run(d.$count(errorLogs, eq(errorLogs.resolved, false))),
    // Minute rows and the pending rows not folded yet (snapshotsWithPending), in one statement.
    db.query<{ n: number; e: number }>(
      `SELECT coalesce(sum(count), 0)::float8 AS n, coalesce(sum(error_count), 0)::float8 AS e FROM ${snapshotsWithPending()} s
        WHERE metric = 'duration_ms' AND bucket_start >= date_trunc('minute', now()) - interval '5 minutes'`,
    ),
    run(
      d.select({ all: count(), warning: countWhere(eq(alerts.severity, 'warning')), critical: countWhere(eq(alerts.severity, 'critical')) })
        .from(alerts)
        .where(eq(alerts.state, 'firing')),
    ),
    run(d.$count(alertRules, eq(alertRules.enabled, true))),
  ]);
  return {
    activeWorkflows,
    activeByType,
    failedLastHour: finished?.failed ?? 0,
    timedOutLastHour: finished?.timed_out ?? 0,
    unresolvedErrors,
    spansLast5m: Number(ingest?.n ?? 0),
    errorsLast5m: Number(ingest?.e ?? 0),
    alertsFiring: firing?.all ?? 0,
    alertsFiringWarning: firing?.warning ?? 0,
    alertsFiringCritical: firing?.critical ?? 0,
    rulesEnabled,
  };
}
