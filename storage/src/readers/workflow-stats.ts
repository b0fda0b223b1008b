import type { Queryable } from '../sql.ts';

/**
 * Workflow statistics reader (workflow_sessions, every run whether its spans were kept or not).
 * Contract: runs started in [from, to), optionally of one workflow type; counts per status and
 * per type (busiest first, at most `maxTypes`, `types_truncated` when more matched) with error
 * rate, runs per minute and an exact p95 of finished runs' durations (null when none finished).
 * Raw SQL (COUNT FILTER and percentile_cont in one pass per answer), typed here by hand: the
 * answer is an aggregate, not a table row.
 */

export interface WorkflowTypeStats {
  workflow_type: string;
  count: number;
  failed: number;
  timed_out: number;
  /** (failed + timed out) / count. */
  error_rate: number;
  /** runs per minute over the range. */
  per_minute: number;
  /** of finished runs' durations (exact, `percentile_cont`); null when none finished. */
  p95_ms: number | null;
}

export interface WorkflowStats {
  by_status: Record<string, number>;
  by_type: WorkflowTypeStats[];
  /** more workflow types than `maxTypes` matched; the rest are left out. */
  types_truncated: boolean;
}

/**
 * Counts of workflow runs started in [from, to) by status, and per workflow type the
 * throughput, error rate and p95 duration (every run counts, stored or sampled out: sessions are
 * kept for all). At most `maxTypes` types, busiest first.
 */
export async function workflowStats(
  db: Pick<Queryable, 'query'>,
  q: { from: Date; to: Date; workflowType?: string | undefined },
  maxTypes = 100,
): Promise<WorkflowStats> {
  const params: unknown[] = [q.from.toISOString(), q.to.toISOString()];
  let where = 'started_at >= $1::timestamptz AND started_at < $2::timestamptz';
  if (q.workflowType !== undefined) {
    params.push(q.workflowType);
    where += ` AND workflow_type = $${params.length}`;
  }
  const statuses = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM workflow_sessions WHERE ${where} GROUP BY status`,
    params,
  );
  const types = await db.query<{ workflow_type: string; n: number; failed: number; timed_out: number; p95: number | null }>(
    `SELECT workflow_type, count(*)::int AS n,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status = 'timed_out')::int AS timed_out,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS p95
       FROM workflow_sessions WHERE ${where}
      GROUP BY workflow_type ORDER BY n DESC, workflow_type LIMIT $${params.length + 1}`,
    [...params, maxTypes + 1],
  );
  const minutes = Math.max((q.to.getTime() - q.from.getTime()) / 60_000, 1 / 60);
  return {
    by_status: Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)])),
    by_type: types.slice(0, maxTypes).map((r) => {
      const n = Number(r.n);
      return {
        workflow_type: r.workflow_type,
        count: n,
        failed: Number(r.failed),
        timed_out: Number(r.timed_out),
        error_rate: n > 0 ? (Number(r.failed) + Number(r.timed_out)) / n : 0,
        per_minute: n / minutes,
        p95_ms: r.p95 === null ? null : Number(r.p95),
      };
    }),
    types_truncated: types.length > maxTypes,
  };
}
