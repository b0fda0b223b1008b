import { Where, type Queryable } from '../sql.ts';

/**
 * Snapshot reader (performance_snapshots: one row per minute × workflow type × layer ×
 * component × metric, counted from every span before sampling). Contract:
 * - `snapshotSeries` sums rows per step (and per group) in SQL and sums histogram buckets per
 *   step too, sending only non-zero buckets, so quantiles can be read from merged histograms;
 *   `t` is the step's start in seconds since the epoch; bucket index `i` is 1-based;
 * - `snapshotsInWindow` returns the raw minute rows of (from, to] for one metric and scope.
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

export async function snapshotSeries(db: Queryable, q: SeriesQuery): Promise<{ cells: SeriesCell[]; buckets: SeriesBucket[] }> {
  const groupBy = q.groupBy.filter((g) => (SNAPSHOT_GROUPS as readonly string[]).includes(g));
  const w = new Where()
    .add('metric = ?', q.metric)
    .add('bucket_start >= ?::timestamptz', q.fromIso)
    .add('bucket_start < ?::timestamptz', q.toIso)
    .add('workflow_type = ?', q.workflow_type ?? undefined)
    .add('layer = ?', q.layer ?? undefined)
    .add('component = ?', q.component ?? undefined);
  const stepParam = w.param(q.stepSeconds);
  const t = `(floor(extract(epoch FROM bucket_start) / ${stepParam}::int) * ${stepParam}::int)::float8`;
  const g = groupBy.map((c) => `, ${c}`).join('');
  const pg = groupBy.map((c) => `, p.${c}`).join('');
  const cells = await db.query<SeriesCell>(
    `SELECT ${t} AS t${g}, sum(count)::float8 AS n, sum(error_count)::float8 AS errors, sum(sum)::float8 AS total,
            min(min) AS min, max(max) AS max
       FROM performance_snapshots ${w} GROUP BY 1${g}`,
    w.params,
  );
  const buckets = await db.query<SeriesBucket>(
    `SELECT p.t${pg}, u.i::int AS i, sum(u.b)::float8 AS n
       FROM (SELECT ${t} AS t${g}, buckets FROM performance_snapshots ${w}) p,
            unnest(p.buckets) WITH ORDINALITY AS u(b, i)
      WHERE u.b <> 0
      GROUP BY p.t${pg}, u.i`,
    w.params,
  );
  return { cells, buckets };
}

/** One minute snapshot row. */
export interface SnapshotRow {
  workflow_type: string;
  layer: string;
  component: string;
  count: string | number;
  error_count: string | number;
  sum: number;
  min: number | null;
  max: number | null;
  buckets: (string | number)[];
}

/** The minute rows of `metric` with bucket_start in (fromIso, toIso], filtered on the given scope values. */
export function snapshotsInWindow(db: Queryable, q: { metric: string; fromIso: string; toIso: string; scope: SnapshotScope }): Promise<SnapshotRow[]> {
  const w = new Where().add('metric = ?', q.metric).add('bucket_start > ?::timestamptz', q.fromIso).add('bucket_start <= ?::timestamptz', q.toIso);
  for (const f of SNAPSHOT_GROUPS) w.add(`${f} = ?`, q.scope[f] ?? undefined);
  return db.query<SnapshotRow>(
    `SELECT workflow_type, layer, component, count, error_count, sum, min, max, buckets FROM performance_snapshots ${w}`,
    w.params,
  );
}
