import type { Database, Tx } from './driver.ts';
import type { Queryable } from './sql.ts';
import { BUCKET_COUNT, addCounts, trimmedArray } from './histogram.ts';

/**
 * Metric names of performance_snapshots.metric. Every span counts under `duration_ms`;
 * frontend spans additionally count under the browser metrics so alert rules can hold page
 * loads and browser-side API calls to their own thresholds.
 */
export const SNAPSHOT_METRICS = {
  /** Every span's duration. */
  duration: 'duration_ms',
  /** Frontend document/page load spans. */
  pageLoad: 'page_load_ms',
  /** Frontend CLIENT http spans (fetch/XHR as the browser sees them). */
  browserApi: 'browser_api_ms',
} as const;

/** One minute × workflow type × layer × component × metric worth of observations. */
export interface SnapshotDelta {
  /** Start of the minute, ms since the epoch (a multiple of 60000). */
  bucketStartMs: number;
  workflowType: string;
  layer: string;
  component: string;
  metric: string;
  count: number;
  errorCount: number;
  sum: number;
  min: number;
  max: number;
  /** BUCKET_COUNT counts (see histogram.ts). */
  buckets: number[];
}

/** Roll-up resolutions of performance_rollups (seconds), finest first; see migrations/0004. */
export const ROLLUP_SECONDS = [300, 3600] as const;
/**
 * layer and component of the roll-up rows that sum every layer and component of a workflow
 * type: what a series read without a layer or component filter or grouping reads.
 */
export const ROLLUP_ALL = '*';

/** Adds `d` into `into` (a delta of the same key): counts, sums and buckets add, min/max widen. */
export function addDelta(into: SnapshotDelta, d: SnapshotDelta): void {
  into.count += d.count;
  into.errorCount += d.errorCount;
  into.sum += d.sum;
  into.min = Math.min(into.min, d.min);
  into.max = Math.max(into.max, d.max);
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += d.buckets[i] ?? 0;
}

const keyOf = (d: SnapshotDelta) => `${d.workflowType}\u0000${d.layer}\u0000${d.component}\u0000${d.metric}`;

/** The deltas summed per roll-up bucket of `seconds` (counts and buckets add, min/max widen). */
export function rollUp(deltas: readonly SnapshotDelta[], seconds: number): SnapshotDelta[] {
  const ms = seconds * 1000;
  const out = new Map<string, SnapshotDelta>();
  for (const d of deltas) {
    const start = Math.floor(d.bucketStartMs / ms) * ms;
    const k = `${start}\u0000${keyOf(d)}`;
    const r = out.get(k);
    if (r) addDelta(r, d);
    else out.set(k, { ...d, bucketStartMs: start, buckets: [...d.buckets] });
  }
  return [...out.values()];
}

const byKey = (a: SnapshotDelta, b: SnapshotDelta) =>
  a.bucketStartMs !== b.bucketStartMs ? a.bucketStartMs - b.bucketStartMs : keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0;

function rowsOf(deltas: readonly SnapshotDelta[], seconds?: number) {
  return [...deltas].sort(byKey).map((d) => {
    if (d.buckets.length !== BUCKET_COUNT) throw new Error(`snapshot delta needs ${BUCKET_COUNT} buckets`);
    return {
      bucket_start: new Date(d.bucketStartMs).toISOString(),
      ...(seconds === undefined ? {} : { bucket_seconds: seconds }),
      workflow_type: d.workflowType,
      layer: d.layer,
      component: d.component,
      metric: d.metric,
      count: d.count,
      error_count: d.errorCount,
      sum: d.sum,
      min: d.min,
      max: d.max,
      // A PostgreSQL array literal ('{0,3,1,…}') cast once per row: measured on this machine
      // (psql, a flush's 200 minute and 416 roll-up rows) about a third cheaper than expanding a
      // JSON array with a subquery per row.
      buckets: `{${d.buckets.join(',')}}`,
    };
  });
}

const UPSERT_SET = `count = p.count + EXCLUDED.count,
       error_count = p.error_count + EXCLUDED.error_count,
       sum = p.sum + EXCLUDED.sum,
       min = least(p.min, EXCLUDED.min),
       max = greatest(p.max, EXCLUDED.max),
       buckets = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
                         FROM unnest(p.buckets, EXCLUDED.buckets) AS u(a, b))`;

/**
 * Adds deltas to performance_snapshots, and their sums per five minutes and per hour to
 * performance_rollups, in the caller's transaction and in one statement (upsert: counts and
 * buckets add, min/max widen). Not idempotent by itself: the caller makes sure a delta is
 * applied once (the collector derives deltas only from spans it has not seen before).
 * Rows are applied in key order (minute rows, then roll-ups by resolution) so concurrent
 * writers do not deadlock.
 */
export async function writeSnapshotDeltas(tx: Tx, deltas: readonly SnapshotDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  const [minutes, rollups] = snapshotParams(deltas);
  const [m, r] = snapshotUpserts('$1', '$2');
  await tx.query(`WITH minutes AS (${m} RETURNING 1) ${r}`, [minutes, rollups]);
}

/** The two JSON parameters of snapshotUpserts: minute rows and roll-up rows, in key order. */
export function snapshotParams(deltas: readonly SnapshotDelta[]): [string, string] {
  const minutes = rowsOf(rollUp(deltas, 60)); // one row per key: an upsert may not touch a row twice
  const all = deltas.map((d) => ({ ...d, layer: ROLLUP_ALL, component: ROLLUP_ALL }));
  const rollups = ROLLUP_SECONDS.flatMap((secs) => rowsOf([...rollUp(deltas, secs), ...rollUp(all, secs)], secs));
  return [JSON.stringify(minutes), JSON.stringify(rollups)];
}

/** The upserts of minute rows and of roll-up rows from the JSON parameters at `pMinutes` and `pRollups` (without RETURNING). */
export function snapshotUpserts(pMinutes: string, pRollups: string): [string, string] {
  return [
    `INSERT INTO performance_snapshots AS p
       (bucket_start, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets)
     SELECT r.bucket_start, r.workflow_type, r.layer, r.component, r.metric, r.count, r.error_count, r.sum, r.min, r.max,
            r.buckets::bigint[]
       FROM jsonb_to_recordset(${pMinutes}::text::jsonb) AS r(bucket_start timestamptz, workflow_type text, layer text, component text,
            metric text, count bigint, error_count bigint, sum double precision, min double precision,
            max double precision, buckets text)
     ON CONFLICT (bucket_start, workflow_type, layer, component, metric) DO UPDATE SET
       ${UPSERT_SET}`,
    `INSERT INTO performance_rollups AS p
       (bucket_start, bucket_seconds, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets)
     SELECT r.bucket_start, r.bucket_seconds, r.workflow_type, r.layer, r.component, r.metric, r.count, r.error_count, r.sum, r.min, r.max,
            r.buckets::bigint[]
       FROM jsonb_to_recordset(${pRollups}::text::jsonb) AS r(bucket_start timestamptz, bucket_seconds integer, workflow_type text, layer text,
            component text, metric text, count bigint, error_count bigint, sum double precision, min double precision,
            max double precision, buckets text)
     ON CONFLICT (bucket_seconds, bucket_start, workflow_type, layer, component, metric) DO UPDATE SET
       ${UPSERT_SET}`,
  ];
}

/**
 * Recomputes performance_rollups from the minute rows for the roll-up buckets starting in
 * [fromIso, toIso) (both multiples of an hour): for rows written to performance_snapshots other
 * than by writeSnapshotDeltas (bulk loads, repairs). Same rows as migration 0004's backfill.
 */
export async function rebuildRollups(db: Queryable, fromIso: string, toIso: string): Promise<void> {
  await db.query(`DELETE FROM performance_rollups WHERE bucket_start >= $1::timestamptz AND bucket_start < $2::timestamptz`, [fromIso, toIso]);
  await db.query(
    `WITH k AS (
       SELECT to_timestamp(floor(extract(epoch FROM p.bucket_start) / r.secs) * r.secs) AS rs, r.secs, p.bucket_start, p.workflow_type,
              CASE WHEN a.all_ THEN '${ROLLUP_ALL}' ELSE p.layer END AS layer, CASE WHEN a.all_ THEN '${ROLLUP_ALL}' ELSE p.component END AS component,
              p.metric, p.count, p.error_count, p.sum, p.min, p.max, p.buckets
         FROM performance_snapshots p, unnest($3::int[]) AS r(secs), (VALUES (false), (true)) AS a(all_)
        WHERE p.bucket_start >= $1::timestamptz AND p.bucket_start < $2::timestamptz
     ), scalars AS (
       SELECT rs, secs, workflow_type, layer, component, metric, sum(count)::bigint AS count, sum(error_count)::bigint AS error_count,
              sum(sum) AS sum, min(min) AS min, max(max) AS max
         FROM k GROUP BY 1, 2, 3, 4, 5, 6
     ), hist AS (
       SELECT rs, secs, workflow_type, layer, component, metric, array_agg(n ORDER BY i) AS buckets
         FROM (SELECT rs, secs, workflow_type, layer, component, metric, u.i, sum(u.v)::bigint AS n
                 FROM k, unnest(k.buckets) WITH ORDINALITY AS u(v, i) GROUP BY 1, 2, 3, 4, 5, 6, 7) c
        GROUP BY 1, 2, 3, 4, 5, 6
     )
     INSERT INTO performance_rollups (bucket_start, bucket_seconds, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets)
     SELECT s.rs, s.secs, s.workflow_type, s.layer, s.component, s.metric, s.count, s.error_count, s.sum, s.min, s.max, coalesce(h.buckets, '{}')
       FROM scalars s LEFT JOIN hist h USING (rs, secs, workflow_type, layer, component, metric)`,
    [fromIso, toIso, [...ROLLUP_SECONDS]],
  );
}

/** Statistics an alert rule can hold a snapshot metric to. */
export const ALERT_STATISTICS = ['p50', 'p90', 'p95', 'p99', 'avg', 'max', 'error_pct'] as const;

/**
 * alert_rules.metric is `<snapshot metric>:<statistic>`, e.g. `duration_ms:p95` or
 * `duration_ms:error_pct`. One pattern for the worker that evaluates rules and the API that
 * edits them.
 */
export const ALERT_METRIC_PATTERN = `^(${Object.values(SNAPSHOT_METRICS).join('|')}):(${ALERT_STATISTICS.join('|')})$`;

/**
 * Pending snapshot rows (migration 0010, issue 12): a flush records its snapshot minute deltas
 * as one row per workflow type (a JSON text, PendingSnapshotJson rows) in the statement that
 * applies its other counts, instead of upserting a few hundred hot minute and roll-up rows;
 * the collector folds pending rows into performance_snapshots and performance_rollups every
 * few seconds (foldPendingSnapshots), in one transaction that deletes what it folded. Readers
 * of minute rows add the pending rows (snapshotsWithPending), so every span counts exactly once
 * at any moment, before and after a fold.
 */
interface PendingSnapshotJson {
  /** Minute start, seconds since the epoch. */
  m: number;
  l: string;
  c: string;
  /** metric */
  k: string;
  n: number;
  e: number;
  s: number;
  lo: number;
  hi: number;
  /** Histogram as a trimmed array literal (histogram.ts trimmedArray). */
  b: string;
}

/** Milliseconds to the nanosecond: a sum of durations printed without float noise. */
const toNs = (ms: number) => Math.round(ms * 1e6) / 1e6;

/**
 * The parameters of pendingSnapshotInsert: the deltas summed per minute and key, one JSON text
 * per workflow type (readers filtered by type skip the others' rows before parsing them), types sorted.
 */
export function pendingSnapshotRows(deltas: readonly SnapshotDelta[]): [types: string[], texts: string[]] {
  const byType = new Map<string, PendingSnapshotJson[]>();
  for (const d of rollUp(deltas, 60)) {
    if (d.buckets.length !== BUCKET_COUNT) throw new Error(`snapshot delta needs ${BUCKET_COUNT} buckets`);
    const row: PendingSnapshotJson = {
      m: d.bucketStartMs / 1000, l: d.layer, c: d.component, k: d.metric, n: d.count, e: d.errorCount,
      s: toNs(d.sum), lo: d.min, hi: d.max, b: trimmedArray(d.buckets),
    };
    const list = byType.get(d.workflowType);
    if (list) list.push(row);
    else byType.set(d.workflowType, [row]);
  }
  const types = [...byType.keys()].sort();
  return [types, types.map((t) => JSON.stringify(byType.get(t)))];
}

/** The statement part that records pending snapshot rows from the parameters at `types` and `texts` (without RETURNING). */
export function pendingSnapshotInsert(types: string, texts: string): string {
  return `INSERT INTO performance_snapshots_pending (workflow_type, deltas) SELECT u.t, u.d FROM unnest(${types}::text[], ${texts}::text[]) AS u(t, d)`;
}

/** Records snapshot deltas as pending rows in the caller's transaction (see pendingSnapshotRows). */
export async function writePendingSnapshotDeltas(tx: Tx, deltas: readonly SnapshotDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.query(pendingSnapshotInsert('$1', '$2'), pendingSnapshotRows(deltas));
}

/** The minute deltas of pending rows (their workflow type and JSON text), summed per minute and key. */
export function parsePendingSnapshots(rows: readonly { workflow_type: string; deltas: string }[]): SnapshotDelta[] {
  const out = new Map<string, SnapshotDelta>();
  for (const row of rows) {
    for (const r of JSON.parse(row.deltas) as PendingSnapshotJson[]) {
      const bucketStartMs = r.m * 1000;
      const key = `${bucketStartMs}\u0000${row.workflow_type}\u0000${r.l}\u0000${r.c}\u0000${r.k}`;
      let d = out.get(key);
      if (!d) {
        d = {
          bucketStartMs, workflowType: row.workflow_type, layer: r.l, component: r.c, metric: r.k,
          count: 0, errorCount: 0, sum: 0, min: r.lo, max: r.hi, buckets: new Array<number>(BUCKET_COUNT).fill(0),
        };
        out.set(key, d);
      }
      d.count += r.n;
      d.errorCount += r.e;
      d.sum += r.s;
      if (r.lo < d.min) d.min = r.lo;
      if (r.hi > d.max) d.max = r.hi;
      addCounts(d.buckets, r.b);
    }
  }
  return [...out.values()];
}

/**
 * Folds up to `maxRows` pending snapshot rows (oldest first) into performance_snapshots and
 * performance_rollups (writeSnapshotDeltas: minute rows and roll-ups, in key order) in one
 * transaction that deletes what it folded: a span counts in a pending row or in the tables,
 * never both, never neither. Rows another fold is working on are skipped. Returns how many
 * pending rows were folded.
 */
export async function foldPendingSnapshots(db: Database, maxRows: number): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ workflow_type: string; deltas: string }>(
      `DELETE FROM performance_snapshots_pending
        WHERE id IN (SELECT id FROM performance_snapshots_pending ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING workflow_type, deltas`,
      [maxRows],
    );
    if (rows.length === 0) return 0;
    await writeSnapshotDeltas(tx, parsePendingSnapshots(rows));
    return rows.length;
  });
}

/** Pending snapshot rows not folded yet. */
export async function countPendingSnapshots(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM performance_snapshots_pending');
  return Number(r?.n ?? 0);
}

/**
 * The pending rows not folded yet (see foldPendingSnapshots) as a subquery with
 * performance_snapshots' columns. Buckets of pending rows are trimmed arrays: their lower bound
 * is their first non-zero bucket, so read them by subscript, not by ordinality. `types`: a
 * text[] parameter; pending rows of other workflow types are skipped before their JSON is parsed.
 */
export function pendingSnapshots(types?: string): string {
  return `(SELECT to_timestamp(r.m) AS bucket_start, p.workflow_type, r.l AS layer, r.c AS component, r.k AS metric, r.n AS count,
                  r.e AS error_count, r.s AS sum, r.lo AS min, r.hi AS max, r.b::bigint[] AS buckets
             FROM performance_snapshots_pending p,
                  jsonb_to_recordset(p.deltas::jsonb) AS r(m double precision, l text, c text, k text, n bigint, e bigint,
                    s double precision, lo double precision, hi double precision, b text)${types ? `
            WHERE p.workflow_type = ANY(${types}::text[])` : ''})`;
}

/**
 * The minute rows of performance_snapshots and the pending rows not folded yet, as one subquery
 * (see pendingSnapshots). Conditions on the columns reach performance_snapshots' partitions
 * through the UNION ALL.
 */
export function snapshotsWithPending(types?: string): string {
  return `(SELECT bucket_start, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets
             FROM performance_snapshots
           UNION ALL
           SELECT * FROM ${pendingSnapshots(types)} pending)`;
}
