import type { Queryable } from '../sql.ts';
import { activeWorkflowsByType } from './workflows.ts';

/**
 * System health counts for dashboards and on-call. Contract: counts come from the partial
 * indexes (in-progress workflows, unresolved errors); ingest from the span snapshots of the
 * last five full minutes plus the current one (every span, sampled or not); alert counts from
 * firing alerts and enabled rules. All numbers, never null.
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

export async function healthCounts(db: Queryable): Promise<HealthCounts> {
  const [active, byType, failed, unresolved, ingest, alerts] = await Promise.all([
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflow_sessions WHERE status = 'in_progress'`),
    activeWorkflowsByType(db, 1000),
    db.query<{ failed: number; timed_out: number }>(
      `SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*) FILTER (WHERE status = 'timed_out')::int AS timed_out
         FROM workflow_sessions WHERE started_at >= now() - interval '1 hour'`,
    ),
    db.query<{ n: number }>(`SELECT count(*)::int AS n FROM error_logs WHERE resolved = false`),
    db.query<{ n: number; e: number }>(
      `SELECT coalesce(sum(count), 0)::float8 AS n, coalesce(sum(error_count), 0)::float8 AS e FROM performance_snapshots
        WHERE metric = 'duration_ms' AND bucket_start >= date_trunc('minute', now()) - interval '5 minutes'`,
    ),
    db.query<{ firing: number; warning: number; critical: number; rules: number }>(
      `SELECT count(*) FILTER (WHERE state = 'firing')::int AS firing,
              count(*) FILTER (WHERE state = 'firing' AND severity = 'warning')::int AS warning,
              count(*) FILTER (WHERE state = 'firing' AND severity = 'critical')::int AS critical,
              (SELECT count(*)::int FROM alert_rules WHERE enabled) AS rules
         FROM alerts WHERE state = 'firing'`,
    ),
  ]);
  const a = alerts[0];
  return {
    activeWorkflows: Number(active[0]?.n ?? 0),
    activeByType: byType,
    failedLastHour: Number(failed[0]?.failed ?? 0),
    timedOutLastHour: Number(failed[0]?.timed_out ?? 0),
    unresolvedErrors: Number(unresolved[0]?.n ?? 0),
    spansLast5m: Number(ingest[0]?.n ?? 0),
    errorsLast5m: Number(ingest[0]?.e ?? 0),
    alertsFiring: Number(a?.firing ?? 0),
    alertsFiringWarning: Number(a?.warning ?? 0),
    alertsFiringCritical: Number(a?.critical ?? 0),
    rulesEnabled: Number(a?.rules ?? 0),
  };
}
