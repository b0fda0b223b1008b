import type { PerformanceSnapshotRecord } from '../schema.ts';
import { ROLLUP_ALL, ROLLUP_SECONDS, pendingSnapshots, snapshotsWithPending } from '../snapshots.ts';
import { Where, type Queryable, type SnakeRow } from '../sql.ts';
import { countsOf } from '../histogram.ts';

/**
 * Snapshot reader (performance_snapshots: one row per minute × workflow type × layer ×
 * component × metric, counted from every span before sampling). Contract:
 * - `snapshotSeries` sums rows per step (and per group) in SQL and sums histogram buckets per
 *   step too, sending only non-zero buckets, so quantiles can be read from merged histograms;
 *   `t` is the step's start in seconds since the epoch; bucket index `i` is 1-based; raw SQL
 *   (one statement over roll-ups and minutes, histogram arrays unnested in SQL), its cells typed
 *   here by hand;
 * - `snapshotsInWindow` returns the minute rows of (from, to] for one metric and scope (drizzle;
 *   `SnapshotRow` from schema.ts, counts and buckets as numbers on both drivers).
 */

export const SNAPSHOT_GROUPS = ['workflow_type', 'layer', 'component'] as const;
export type SnapshotGroup = (typeof SNAPSHOT_GROUPS)[number];

export interface SnapshotScope {
  workflow_type?: string | null | undefined;
  layer?: string | null | undefined;
  component?: string | null | undefined;
}

export interface SeriesQuery extends SnapshotScope {
  metric: string;
  /** bucket_start >= fromIso and < toIso */
  fromIso: string;
  toIso: string;
  stepSeconds: number;
  groupBy: readonly SnapshotGroup[];
}

export type SeriesCell = Partial<Record<SnapshotGroup, string>> & { t: number; n: number; errors: number; total: number; min: number | null; max: number | null };
export type SeriesBucket = Partial<Record<SnapshotGroup, string>> & { t: number; i: number; n: number };

/**
 * The series in one statement and one pass over the rows: roll-up rows (performance_rollups,
 * the coarsest resolution that divides the step and the start) for the whole roll-up buckets
 * of the range, minute rows for the rest (a roll-up bucket that would run past `toIso`), so the
 * answer equals the sum of minute rows.
 */
export async function snapshotSeries(db: Queryable, q: SeriesQuery): Promise<{ cells: SeriesCell[]; buckets: SeriesBucket[] }> {
  const groupBy = q.groupBy.filter((g) => (SNAPSHOT_GROUPS as readonly string[]).includes(g));
  const fromMs = Date.parse(q.fromIso);
  const toMs = Date.parse(q.toIso);
  const res = [...ROLLUP_SECONDS].reverse().find((r) => q.stepSeconds % r === 0 && fromMs % (r * 1000) === 0);
  const cutMs = res === undefined ? fromMs : Math.max(fromMs, Math.floor(toMs / (res * 1000)) * res * 1000);
  const w = new Where()
    .add('metric = ?', q.metric)
    .add('workflow_type = ?', q.workflow_type ?? undefined)
    .add('layer = ?', q.layer ?? undefined)
    .add('component = ?', q.component ?? undefined);
  const stepParam = w.param(q.stepSeconds);
  const scope = String(w).replace(/^WHERE /, '');
  const t = `(floor(extract(epoch FROM bucket_start) / ${stepParam}::int) * ${stepParam}::int)::float8`;
  const cols = `${t} AS t${groupBy.map((c) => `, ${c}`).join('')}, count, error_count, sum, min, max, buckets`;
  const g = groupBy.map((c) => `, ${c}`).join('');
  const parts: string[] = [];
  let minutesFrom = w.param(q.fromIso);
  if (res !== undefined && cutMs > fromMs) {
    const cutP = w.param(new Date(cutMs).toISOString());
    // Without a layer or component filter or grouping, the rows summing every layer and component.
    const whole = q.layer == null && q.component == null && !groupBy.includes('layer') && !groupBy.includes('component');
    const allP = w.param(ROLLUP_ALL);
    parts.push(
      `SELECT ${cols} FROM performance_rollups WHERE bucket_seconds = ${w.param(res)}::int AND ${scope}
          AND ${whole ? `layer = ${allP} AND component = ${allP}` : `layer <> ${allP}`}
          AND bucket_start >= ${minutesFrom}::timestamptz AND bucket_start < ${cutP}::timestamptz`,
    );
    minutesFrom = cutP;
  }
  const toP = w.param(q.toIso);
  parts.push(
    `SELECT ${cols} FROM performance_snapshots WHERE ${scope}
        AND bucket_start >= ${minutesFrom}::timestamptz AND bucket_start < ${toP}::timestamptz`,
  );
  // Pending rows (not folded yet) are in neither roll-ups nor minute rows: read over the whole range.
  const pendingTypes = q.workflow_type == null ? undefined : w.param([q.workflow_type]);
  parts.push(
    `SELECT ${cols} FROM ${pendingSnapshots(pendingTypes)} pending WHERE ${scope}
        AND bucket_start >= ${w.param(q.fromIso)}::timestamptz AND bucket_start < ${toP}::timestamptz`,
  );
  const rows = await db.query<SeriesCell & { hist: Record<string, number> | null }>(
    `WITH src AS MATERIALIZED (${parts.join(' UNION ALL ')}),
          cells AS (SELECT t${g}, sum(count)::float8 AS n, sum(error_count)::float8 AS errors, sum(sum)::float8 AS total,
                           min(min) AS min, max(max) AS max
                      FROM src GROUP BY t${g}),
          hist AS (SELECT t${g}, jsonb_object_agg(i, n) AS hist
                     FROM (SELECT t${g}, u.o + array_lower(src.buckets, 1) - 1 AS i, sum(u.b)::float8 AS n
                             FROM src, unnest(src.buckets) WITH ORDINALITY AS u(b, o)
                            WHERE u.b <> 0 GROUP BY t${g}, i) c
                    GROUP BY t${g})
     SELECT cells.*, hist.hist FROM cells LEFT JOIN hist USING (t${g})`,
    w.params,
  );
  const cells: SeriesCell[] = [];
  const buckets: SeriesBucket[] = [];
  for (const { hist, ...cell } of rows) {
    cells.push(cell);
    const labels: Partial<Record<SnapshotGroup, string>> = {};
    for (const c of groupBy) labels[c] = cell[c];
    for (const [i, n] of Object.entries(hist ?? {})) buckets.push({ ...labels, t: cell.t, i: Number(i), n: Number(n) });
  }
  return { cells, buckets };
}

/** One minute snapshot row (counts and buckets as numbers). */
export type SnapshotRow = SnakeRow<
  Pick<PerformanceSnapshotRecord, 'workflowType' | 'layer' | 'component' | 'count' | 'errorCount' | 'sum' | 'min' | 'max' | 'buckets'>
>;

/**
 * The minute rows of `metric` with bucket_start in (fromIso, toIso], filtered on the given scope
 * values, and the pending rows of those minutes not folded yet (so a minute and scope may come
 * in several rows: callers add them up). One statement, so a fold committing meanwhile moves
 * nothing into or out of the answer.
 */
export async function snapshotsInWindow(db: Queryable, q: { metric: string; fromIso: string; toIso: string; scope: SnapshotScope }): Promise<SnapshotRow[]> {
  const w = new Where()
    .add('metric = ?', q.metric)
    .add('bucket_start > ?::timestamptz', q.fromIso)
    .add('bucket_start <= ?::timestamptz', q.toIso)
    .add('workflow_type = ?', q.scope.workflow_type ?? undefined)
    .add('layer = ?', q.scope.layer ?? undefined)
    .add('component = ?', q.scope.component ?? undefined);
  const types = q.scope.workflow_type == null ? undefined : w.param([q.scope.workflow_type]);
  const rows = await db.query<Omit<SnapshotRow, 'buckets'> & { buckets: string }>(
    `SELECT workflow_type, layer, component, count::float8 AS count, error_count::float8 AS error_count, sum, min, max, buckets::text AS buckets
       FROM ${snapshotsWithPending(types)} s ${w}`,
    w.params,
  );
  return rows.map((r) => ({ ...r, buckets: countsOf(r.buckets) }));
}
