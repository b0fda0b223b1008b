import type { Database, Tx } from './driver.ts';
import type { SpanStepRecord } from './schema.ts';
import type { Queryable, SnakeRow } from './sql.ts';
import { BUCKET_COUNT, addCounts, countsOf, emptyBuckets, quantile, trimmedArray } from './histogram.ts';

/**
 * Per-operation statistics (operation_stats): duration and self-time histograms per time
 * bucket × workflow type × layer × component × operation, from every span before sampling.
 * Baselines ("how long does this operation usually take") are read from the hour rows; alert
 * windows from the minute rows.
 */

export const OPERATION_RESOLUTIONS = { minute: 60, hour: 3600 } as const;
/** The operation every name past a service's cap is counted under. */
export const OTHER_OPERATION = 'other';
const MAX_OPERATION_LENGTH = 200;

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const SQL_STRING = /'(?:[^']|'')*'/g;
// A URL path segment that is an id: all digits, long hex, or a long token with digits in it.
const PATH_ID = /\/(?:\d+|[0-9a-f]{12,}|(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,})(?=[/?#\s]|$)/gi;
const NUMBER = /(?<![\w.{])[-+]?\d+(?:\.\d+)?(?![\w}])/g;
const IN_LIST = /\(\s*\?(?:\s*,\s*\?)+\s*\)/g;

/**
 * The operation key of a span name: ids, uuids and numbers in URL paths become `{id}`/`{uuid}`,
 * SQL string and number literals become `?` (lists collapse to `(?)`), whitespace collapses,
 * and the key is cut at 200 characters. `GET /orders/8812/items` and `GET /orders/9/items` are
 * one operation; `SELECT … WHERE id = 42` and `… id = 7` too.
 */
export function normalizeOperation(name: string): string {
  let s = name.replace(UUID, '{uuid}').replace(SQL_STRING, '?');
  s = s.replace(PATH_ID, '/{id}');
  s = s.replace(NUMBER, '?').replace(IN_LIST, '(?)');
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > MAX_OPERATION_LENGTH ? s.slice(0, MAX_OPERATION_LENGTH) : s || '(unnamed)';
}

/** One bucket × workflow type × layer × component × operation worth of observations. */
export interface OperationDelta {
  /** Start of the bucket, ms since the epoch (a multiple of bucketSeconds × 1000). */
  bucketStartMs: number;
  bucketSeconds: number;
  workflowType: string;
  layer: string;
  component: string;
  operation: string;
  count: number;
  errorCount: number;
  sum: number;
  selfSum: number;
  min: number;
  max: number;
  /** BUCKET_COUNT counts of durations and of self times (see histogram.ts). */
  buckets: number[];
  selfBuckets: number[];
}

export const operationDeltaKey = (d: Omit<OperationDelta, 'count' | 'errorCount' | 'sum' | 'selfSum' | 'min' | 'max' | 'buckets' | 'selfBuckets'>) =>
  `${d.bucketStartMs}\u0000${d.bucketSeconds}\u0000${d.workflowType}\u0000${d.layer}\u0000${d.component}\u0000${d.operation}`;

/**
 * Adds deltas to operation_stats in the caller's transaction (upsert: counts, sums and
 * histograms add, min/max widen). Like writeSnapshotDeltas, not idempotent by itself: the
 * collector applies a request's deltas once (its receipt). Rows go in key order so concurrent
 * writers do not deadlock.
 */
export async function writeOperationDeltas(tx: Tx, deltas: readonly OperationDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.query(operationUpsert('$1'), [operationParam(deltas)]);
}

/** One delta as the JSON row both operationUpsert and pendingOperationInsert read; `histogram` encodes the bucket arrays. */
function operationRow(d: OperationDelta, histogram: (buckets: readonly number[]) => string) {
  if (d.buckets.length !== BUCKET_COUNT || d.selfBuckets.length !== BUCKET_COUNT) {
    throw new Error(`operation delta needs ${BUCKET_COUNT} buckets`);
  }
  return {
    bucket_start: new Date(d.bucketStartMs).toISOString(),
    bucket_seconds: d.bucketSeconds,
    workflow_type: d.workflowType,
    layer: d.layer,
    component: d.component,
    operation: d.operation,
    count: d.count,
    error_count: d.errorCount,
    sum: d.sum,
    self_sum: d.selfSum,
    min: d.min,
    max: d.max,
    buckets: histogram(d.buckets),
    self_buckets: histogram(d.selfBuckets),
  };
}

/** The JSON parameter of operationUpsert: the deltas' rows in key order. */
export function operationParam(deltas: readonly OperationDelta[]): string {
  const sorted = [...deltas].sort((a, b) => a.bucketStartMs - b.bucketStartMs || (operationDeltaKey(a) < operationDeltaKey(b) ? -1 : 1));
  // PostgreSQL array literals ('{0,3,1,…}'), cast once per row: far cheaper than expanding a
  // JSON array with a subquery per row.
  return JSON.stringify(sorted.map((d) => operationRow(d, (b) => `{${b.join(',')}}`)));
}

/** Adds deltas with the same key together (a flush or a fold merges the deltas of many requests). */
export function mergeOperationDeltas(deltas: readonly OperationDelta[]): OperationDelta[] {
  const byKey = new Map<string, OperationDelta>();
  for (const d of deltas) {
    const key = operationDeltaKey(d);
    const m = byKey.get(key);
    if (!m) {
      byKey.set(key, { ...d, buckets: [...d.buckets], selfBuckets: [...d.selfBuckets] });
      continue;
    }
    m.count += d.count;
    m.errorCount += d.errorCount;
    m.sum += d.sum;
    m.selfSum += d.selfSum;
    m.min = Math.min(m.min, d.min);
    m.max = Math.max(m.max, d.max);
    for (let i = 0; i < m.buckets.length; i++) {
      m.buckets[i]! += d.buckets[i] ?? 0;
      m.selfBuckets[i]! += d.selfBuckets[i] ?? 0;
    }
  }
  return [...byKey.values()];
}

/**
 * Minute deltas and their sums per hour: the rows operation_stats holds for them (minute rows
 * for alert windows, hour rows for baselines), merged per key. Deltas of other resolutions are
 * kept as they are.
 */
export function withHourRows(deltas: readonly OperationDelta[]): OperationDelta[] {
  const HOUR = OPERATION_RESOLUTIONS.hour * 1000;
  const hours = deltas
    .filter((d) => d.bucketSeconds === OPERATION_RESOLUTIONS.minute)
    .map((d) => ({ ...d, bucketSeconds: OPERATION_RESOLUTIONS.hour, bucketStartMs: Math.floor(d.bucketStartMs / HOUR) * HOUR }));
  return mergeOperationDeltas([...deltas, ...hours]);
}

/**
 * The statement part that records a flush's per-operation minute deltas (the JSON of
 * operationParam at `p`) as one pending row, to be folded into operation_stats later
 * (foldPendingOperations): one row per flush instead of an upsert of a few hundred.
 */
export function pendingOperationInsert(types: string, texts: string): string {
  return `INSERT INTO operation_stats_pending (workflow_type, deltas) SELECT u.t, u.d FROM unnest(${types}::text[], ${texts}::text[]) AS u(t, d)`;
}

/**
 * The parameters of pendingOperationInsert: one pending row per workflow type (readers
 * filtered by type skip the other types' rows before parsing them), each the
 * pendingOperationParam JSON of that type's deltas.
 */
export function pendingOperationRows(deltas: readonly OperationDelta[]): [types: string[], texts: string[]] {
  const byType = new Map<string, OperationDelta[]>();
  for (const d of deltas) {
    const list = byType.get(d.workflowType);
    if (list) list.push(d);
    else byType.set(d.workflowType, [d]);
  }
  const types = [...byType.keys()].sort();
  return [types, types.map((t) => pendingOperationParam(byType.get(t)!))];
}

/**
 * A pending minute row as stored (format 2, short keys): m minute start (epoch seconds), w/l/c/o
 * workflow type, layer, component, operation, n/e count and errors, s/f sum and self-time sum
 * (ms, to the nanosecond), lo/hi min and max, b/x trimmed histograms (see trimmedArray). About
 * half the text of operationParam's rows, which is what a flush inserts and what readers and
 * folds parse. Rows written before (format 1: operationParam's keys) are read as well.
 */
interface PendingRowJson {
  m: number;
  w: string;
  l: string;
  c: string;
  o: string;
  n: number;
  e: number;
  s: number;
  f: number;
  lo: number;
  hi: number;
  b: string;
  x: string;
}

/** Milliseconds to the nanosecond: a sum of durations printed without float noise. */
const toNs = (ms: number) => Math.round(ms * 1e6) / 1e6;

/** The JSON parameter of pendingOperationInsert: minute deltas as PendingRowJson rows. */
export function pendingOperationParam(deltas: readonly OperationDelta[]): string {
  return JSON.stringify(
    deltas.map((d): PendingRowJson => {
      if (d.bucketSeconds !== OPERATION_RESOLUTIONS.minute || d.bucketStartMs % 60_000 !== 0) throw new Error('pending operation deltas are minute rows');
      if (d.buckets.length !== BUCKET_COUNT || d.selfBuckets.length !== BUCKET_COUNT) throw new Error(`operation delta needs ${BUCKET_COUNT} buckets`);
      return {
        m: d.bucketStartMs / 1000, w: d.workflowType, l: d.layer, c: d.component, o: d.operation, n: d.count, e: d.errorCount,
        s: toNs(d.sum), f: toNs(d.selfSum), lo: d.min, hi: d.max, b: trimmedArray(d.buckets), x: trimmedArray(d.selfBuckets),
      };
    }),
  );
}

/** A pending row of either format as operationParam's row. */
function plainRow(r: PendingRowJson | OperationRowJson): OperationRowJson & { startMs: number } {
  if ('bucket_start' in r) return { ...r, startMs: Date.parse(r.bucket_start) };
  return {
    startMs: r.m * 1000, bucket_start: '', bucket_seconds: OPERATION_RESOLUTIONS.minute, workflow_type: r.w, layer: r.l, component: r.c, operation: r.o,
    count: r.n, error_count: r.e, sum: r.s, self_sum: r.f, min: r.lo, max: r.hi, buckets: r.b, self_buckets: r.x,
  };
}

/** Records minute deltas as one pending row in the caller's transaction (see pendingOperationInsert). */
export async function writePendingOperationDeltas(tx: Tx, deltas: readonly OperationDelta[]): Promise<void> {
  if (deltas.length === 0) return;
  await tx.query(pendingOperationInsert('$1', '$2'), pendingOperationRows(deltas));
}

interface OperationRowJson {
  bucket_start: string;
  bucket_seconds: number;
  workflow_type: string;
  layer: string;
  component: string;
  operation: string;
  count: number;
  error_count: number;
  sum: number;
  self_sum: number;
  min: number;
  max: number;
  buckets: string;
  self_buckets: string;
}

/** The deltas of an operationParam or pendingOperationParam JSON text (either pending format). */
export function parseOperationParam(json: string): OperationDelta[] {
  return (JSON.parse(json) as (PendingRowJson | OperationRowJson)[]).map((raw) => {
    const r = plainRow(raw);
    return {
      bucketStartMs: r.startMs,
      bucketSeconds: r.bucket_seconds,
      workflowType: r.workflow_type,
      layer: r.layer,
      component: r.component,
      operation: r.operation,
      count: r.count,
      errorCount: r.error_count,
      sum: r.sum,
      selfSum: r.self_sum,
      min: r.min,
      max: r.max,
      buckets: countsOf(r.buckets),
      selfBuckets: countsOf(r.self_buckets),
    };
  });
}

/**
 * What a fold upserts for pending rows' JSON texts: their minute rows and the hour sums of
 * those, merged per key: the same as withHourRows over parseOperationParam of every text, in
 * one pass (a fold of 20 flushes' rows: ~45 ms of the collector's event loop the plain way, a
 * few ms this way). Histogram literals, dense or trimmed, are added into the dense arrays as
 * they are read. Rows of either pending format.
 */
export function foldedDeltas(texts: readonly string[]): OperationDelta[] {
  const HOUR = OPERATION_RESOLUTIONS.hour * 1000;
  const byKey = new Map<string, OperationDelta>();
  const add = (r: OperationRowJson, bucketSeconds: number, bucketStartMs: number) => {
    const key = operationDeltaKey({ bucketStartMs, bucketSeconds, workflowType: r.workflow_type, layer: r.layer, component: r.component, operation: r.operation });
    let d = byKey.get(key);
    if (!d) {
      d = {
        bucketStartMs, bucketSeconds, workflowType: r.workflow_type, layer: r.layer, component: r.component, operation: r.operation,
        count: 0, errorCount: 0, sum: 0, selfSum: 0, min: r.min, max: r.max, buckets: emptyBuckets(), selfBuckets: emptyBuckets(),
      };
      byKey.set(key, d);
    }
    d.count += r.count;
    d.errorCount += r.error_count;
    d.sum += r.sum;
    d.selfSum += r.self_sum;
    if (r.min < d.min) d.min = r.min;
    if (r.max > d.max) d.max = r.max;
    addCounts(d.buckets, r.buckets);
    addCounts(d.selfBuckets, r.self_buckets);
  };
  for (const text of texts) {
    for (const raw of JSON.parse(text) as (PendingRowJson | OperationRowJson)[]) {
      const r = plainRow(raw);
      const ms = r.startMs;
      add(r, r.bucket_seconds, ms);
      if (r.bucket_seconds === OPERATION_RESOLUTIONS.minute) add(r, OPERATION_RESOLUTIONS.hour, Math.floor(ms / HOUR) * HOUR);
    }
  }
  return [...byKey.values()];
}

/**
 * Folds up to `maxRows` pending rows (oldest first) into operation_stats, their minute rows
 * and hour sums, in one transaction that deletes what it folded: a span is in a pending row
 * or in operation_stats, never both, never neither. Rows another fold is working on are
 * skipped (two collectors fold at once without waiting on each other). Returns how many
 * pending rows were folded.
 */
export async function foldPendingOperations(db: Database, maxRows: number): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ deltas: string }>(
      `DELETE FROM operation_stats_pending
        WHERE id IN (SELECT id FROM operation_stats_pending ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING deltas`,
      [maxRows],
    );
    if (rows.length === 0) return 0;
    await writeOperationDeltas(tx, foldedDeltas(rows.map((r) => r.deltas)));
    return rows.length;
  });
}

/** Pending rows not folded yet. */
export async function countPendingOperations(db: Queryable): Promise<number> {
  const [r] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM operation_stats_pending');
  return Number(r?.n ?? 0);
}

/** The operation_stats upsert from the JSON parameter at `p` (without RETURNING). */
export function operationUpsert(p: string): string {
  return `INSERT INTO operation_stats AS p
       (bucket_start, bucket_seconds, workflow_type, layer, component, operation, count, error_count, sum, self_sum, min, max,
        buckets, self_buckets)
     SELECT r.bucket_start, r.bucket_seconds, r.workflow_type, r.layer, r.component, r.operation, r.count, r.error_count,
            r.sum, r.self_sum, r.min, r.max,
            r.buckets::bigint[], r.self_buckets::bigint[]
       FROM jsonb_to_recordset(${p}::text::jsonb) AS r(bucket_start timestamptz, bucket_seconds integer, workflow_type text,
            layer text, component text, operation text, count bigint, error_count bigint, sum double precision,
            self_sum double precision, min double precision, max double precision, buckets text, self_buckets text)
     ON CONFLICT (bucket_start, bucket_seconds, workflow_type, layer, component, operation) DO UPDATE SET
       count = p.count + EXCLUDED.count,
       error_count = p.error_count + EXCLUDED.error_count,
       sum = p.sum + EXCLUDED.sum,
       self_sum = p.self_sum + EXCLUDED.self_sum,
       min = least(p.min, EXCLUDED.min),
       max = greatest(p.max, EXCLUDED.max),
       buckets = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(p.buckets, EXCLUDED.buckets) AS u(a, b)),
       self_buckets = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(p.self_buckets, EXCLUDED.self_buckets) AS u(a, b))`;
}

/**
 * operation_stats with the pending rows not folded yet (see foldPendingOperations), as a
 * subquery at the resolution of the parameter `res` (seconds): pending minute rows count in
 * the hour row of their hour when hours are read. Conditions on the plain columns reach
 * operation_stats' partitions through the UNION ALL.
 */
function statsWithPending(res: string, types?: string): string {
  // Pending rows of format 2 (PendingRowJson) and, written by an older collector, format 1.
  const start = 'coalesce(r.m, extract(epoch FROM r.bucket_start))';
  return `(SELECT bucket_start, bucket_seconds, workflow_type, layer, component, operation, count, error_count, min, max, buckets, self_buckets
             FROM operation_stats
           UNION ALL
           SELECT to_timestamp(floor(${start} / ${res}::integer) * ${res}::integer),
                  ${res}::integer, coalesce(r.w, r.workflow_type), coalesce(r.l, r.layer), coalesce(r.c, r.component), coalesce(r.o, r.operation),
                  coalesce(r.n, r.count), coalesce(r.e, r.error_count), coalesce(r.lo, r.min), coalesce(r.hi, r.max),
                  coalesce(r.b, r.buckets)::bigint[], coalesce(r.x, r.self_buckets)::bigint[]
             FROM operation_stats_pending p,
                  jsonb_to_recordset(p.deltas::jsonb) AS r(m double precision, w text, l text, c text, o text, n bigint, e bigint,
                  lo double precision, hi double precision, b text, x text,
                  bucket_start timestamptz, bucket_seconds integer, workflow_type text, layer text,
                  component text, operation text, count bigint, error_count bigint, min double precision, max double precision,
                  buckets text, self_buckets text)
            WHERE coalesce(r.bucket_seconds, 60) = 60${types ? ` AND (p.workflow_type IS NULL OR p.workflow_type = ANY(${types}::text[]))` : ''})`;
}

export interface OperationStats {
  workflowType: string;
  layer: string;
  component: string;
  operation: string;
  count: number;
  errorCount: number;
  p50Ms: number | null;
  p95Ms: number | null;
  selfP50Ms: number | null;
  selfP95Ms: number | null;
}

export interface OperationStatsQuery {
  fromMs: number;
  toMs: number;
  /** minute rows for short windows, hour rows (the default) for baselines. */
  resolution?: keyof typeof OPERATION_RESOLUTIONS;
  workflowTypes?: readonly string[];
  layers?: readonly string[];
  components?: readonly string[];
}

export const operationKey = (workflowType: string, layer: string, component: string, operation: string) =>
  `${workflowType}\u0000${layer}\u0000${component}\u0000${operation}`;

/**
 * p50/p95 of duration and self time per operation over [fromMs, toMs), merged from the
 * histograms of the rows in the window (a bucket whose start is in the window counts whole).
 */
export async function readOperationStats(db: Queryable, q: OperationStatsQuery): Promise<OperationStats[]> {
  const params: unknown[] = [OPERATION_RESOLUTIONS[q.resolution ?? 'hour'], new Date(q.fromMs).toISOString(), new Date(q.toMs).toISOString()];
  let where = 'bucket_seconds = $1 AND bucket_start >= $2::timestamptz AND bucket_start < $3::timestamptz';
  let types: string | undefined;
  if (q.workflowTypes) {
    params.push(q.workflowTypes);
    types = `$${params.length}`;
    where += ` AND workflow_type = ANY(${types}::text[])`;
  }
  if (q.layers) {
    params.push(q.layers);
    where += ` AND layer = ANY($${params.length}::text[])`;
  }
  if (q.components) {
    params.push(q.components);
    where += ` AND component = ANY($${params.length}::text[])`;
  }
  // One statement: the matching rows (operation_stats and pending ones, whose JSON is parsed
  // once) materialised, then the totals per operation and the non-empty histogram cells per
  // operation (a few rows each) from them. As two statements over the UNION the planner, which
  // cannot estimate the JSON rows, chose parallel plans whose workers cost 30–70 ms to start
  // for a few dozen rows (alert emails waited ~100 ms per alert on it).
  const rows = await db.query<{
    workflow_type: string; layer: string; component: string; operation: string; k: number; i: number | null; n: number; e: number | null; mn: number | null; mx: number | null;
  }>(
    `WITH s AS MATERIALIZED (
       SELECT workflow_type, layer, component, operation, count, error_count, min, max, buckets, self_buckets
         FROM ${statsWithPending('$1', types)} s WHERE ${where})
     SELECT workflow_type, layer, component, operation, 0 AS k, NULL::int AS i, sum(count)::float8 AS n, sum(error_count)::float8 AS e,
            min(min) AS mn, max(max) AS mx
       FROM s GROUP BY 1, 2, 3, 4
     UNION ALL
     SELECT workflow_type, layer, component, operation, 1, (u.i + array_lower(buckets, 1) - 1)::int, sum(u.v)::float8, NULL, NULL, NULL
       FROM s, unnest(buckets) WITH ORDINALITY AS u(v, i)
      WHERE u.v > 0 GROUP BY 1, 2, 3, 4, 6
     UNION ALL
     SELECT workflow_type, layer, component, operation, 2, (u.i + array_lower(self_buckets, 1) - 1)::int, sum(u.v)::float8, NULL, NULL, NULL
       FROM s, unnest(self_buckets) WITH ORDINALITY AS u(v, i)
      WHERE u.v > 0 GROUP BY 1, 2, 3, 4, 6`,
    params,
  );
  const totals = rows.filter((r) => Number(r.k) === 0);
  if (totals.length === 0) return [];
  const cells = rows.filter((r) => Number(r.k) !== 0).map((r) => ({ ...r, s: Number(r.k) === 2 }));
  const hist = new Map<string, { d: number[]; s: number[] }>();
  for (const c of cells) {
    const k = operationKey(c.workflow_type, c.layer, c.component, c.operation);
    let h = hist.get(k);
    if (!h) hist.set(k, (h = { d: new Array<number>(BUCKET_COUNT).fill(0), s: new Array<number>(BUCKET_COUNT).fill(0) }));
    (c.s ? h.s : h.d)[Number(c.i) - 1]! += Number(c.n);
  }
  return totals.map((t) => {
    const h = hist.get(operationKey(t.workflow_type, t.layer, t.component, t.operation));
    const mn = t.mn === null ? null : Number(t.mn);
    const mx = t.mx === null ? null : Number(t.mx);
    return {
      workflowType: t.workflow_type,
      layer: t.layer,
      component: t.component,
      operation: t.operation,
      count: Number(t.n),
      errorCount: Number(t.e),
      p50Ms: h ? quantile(h.d, 0.5, mn, mx) : null,
      p95Ms: h ? quantile(h.d, 0.95, mn, mx) : null,
      selfP50Ms: h ? quantile(h.s, 0.5) : null,
      selfP95Ms: h ? quantile(h.s, 0.95) : null,
    };
  });
}

export interface SlowOperation {
  workflowType: string;
  layer: string;
  component: string;
  operation: string;
  windowCount: number;
  windowP95Ms: number;
  baselineP50Ms: number | null;
  baselineP95Ms: number | null;
  /** windowP95 / baselineP95; null without a baseline. */
  ratio: number | null;
  /** A stored workflow in the window with the slowest span of this operation, if any was kept. */
  exemplarWorkflowId: string | null;
  exemplarDurationMs: number | null;
}

export interface CauseQuery {
  fromMs: number;
  toMs: number;
  /** Hours before fromMs that make the baseline. */
  baselineHours: number;
  workflowType?: string | null;
  /** Only operations of this layer / component (an alert rule's scope); null or absent: all. */
  layer?: string | null;
  component?: string | null;
  limit: number;
}

/**
 * The operations whose p95 in [fromMs, toMs) most exceeds their baseline p95 (the hour rows
 * of the baselineHours before the window), each with an exemplar workflow. Only operations in
 * the scope (workflow type, layer, component, each when given): a rule on the database layer
 * names queries, never the HTTP call above them; a rule without a layer compares every layer
 * of its workflow type (the cause of a slow API is often a query). Operations without a
 * baseline come last, slowest first.
 */
export async function topSlowOperations(db: Queryable, q: CauseQuery): Promise<SlowOperation[]> {
  const filter = {
    ...(q.workflowType ? { workflowTypes: [q.workflowType] } : {}),
    ...(q.layer ? { layers: [q.layer] } : {}),
    ...(q.component ? { components: [q.component] } : {}),
  };
  const [win, base] = await Promise.all([
    readOperationStats(db, { fromMs: q.fromMs, toMs: q.toMs, resolution: 'minute', ...filter }),
    readOperationStats(db, {
      fromMs: Math.floor((q.fromMs - q.baselineHours * 3_600_000) / 3_600_000) * 3_600_000,
      toMs: Math.floor(q.fromMs / 3_600_000) * 3_600_000,
      ...filter,
    }),
  ]);
  const baseBy = new Map(base.map((b) => [operationKey(b.workflowType, b.layer, b.component, b.operation), b]));
  const ranked = win
    .filter((w) => w.p95Ms !== null && w.operation !== OTHER_OPERATION)
    .map((w) => {
      const b = baseBy.get(operationKey(w.workflowType, w.layer, w.component, w.operation));
      const ratio = b?.p95Ms ? w.p95Ms! / b.p95Ms : null;
      return { w, b, ratio };
    })
    .filter((r) => r.ratio === null || r.ratio > 1)
    .sort((a, b) =>
      a.ratio !== null && b.ratio !== null ? b.ratio - a.ratio : a.ratio === null && b.ratio === null ? b.w.p95Ms! - a.w.p95Ms! : a.ratio === null ? 1 : -1,
    )
    .slice(0, q.limit);
  const out: SlowOperation[] = [];
  for (const { w, b, ratio } of ranked) {
    const ex = await slowestStoredSpan(db, w, q.fromMs, q.toMs);
    out.push({
      workflowType: w.workflowType,
      layer: w.layer,
      component: w.component,
      operation: w.operation,
      windowCount: w.count,
      windowP95Ms: w.p95Ms!,
      baselineP50Ms: b?.p50Ms ?? null,
      baselineP95Ms: b?.p95Ms ?? null,
      ratio,
      exemplarWorkflowId: ex?.workflow_id ?? null,
      exemplarDurationMs: ex ? Number(ex.duration_ms) : null,
    });
  }
  return out;
}

async function slowestStoredSpan(db: Queryable,
  op: { workflowType: string; layer: string; component: string; operation: string },
  fromMs: number,
  toMs: number,
): Promise<{ workflow_id: string; duration_ms: number } | undefined> {
  // Span names are stored raw: read the slowest spans of the scope and match the key here.
  const rows = await db.query<{ workflow_id: string; name: string; duration_ms: number }>(
    `SELECT workflow_id, name, duration_ms FROM trace_steps
      WHERE workflow_type = $1 AND layer = $2 AND component = $3
        AND start_time >= $4::timestamptz AND start_time < $5::timestamptz
      ORDER BY duration_ms DESC LIMIT 200`,
    [op.workflowType, op.layer, op.component, new Date(fromMs - 60_000).toISOString(), new Date(toMs).toISOString()],
  );
  return rows.find((r) => normalizeOperation(r.name) === op.operation);
}

export interface ErrorOrigin {
  workflowType: string;
  layer: string;
  component: string;
  operation: string;
  count: number;
  errorType: string | null;
  message: string | null;
  exemplarWorkflowId: string;
}

export interface ErrorOriginQuery {
  fromMs: number;
  toMs: number;
  workflowType?: string | null;
  /** Only origins in traces that have a failing span in this layer / component (the alert's scope). */
  layer?: string | null;
  component?: string | null;
  limit: number;
}

/**
 * The most frequent error origins in a window: stored failing spans none of whose children
 * failed, grouped by operation, with the latest failing workflow as exemplar. Error spans are
 * always kept by the sampler, so stored spans see them all.
 */
export async function topErrorOrigins(db: Queryable, q: ErrorOriginQuery): Promise<ErrorOrigin[]> {
  const params: unknown[] = [new Date(q.fromMs).toISOString(), new Date(q.toMs).toISOString()];
  let where = 's.is_error AND s.start_time >= $1::timestamptz AND s.start_time < $2::timestamptz';
  if (q.workflowType) {
    params.push(q.workflowType);
    where += ` AND s.workflow_type = $${params.length}`;
  }
  if (q.layer || q.component) {
    let scope = '';
    if (q.layer) {
      params.push(q.layer);
      scope += ` AND e.layer = $${params.length}`;
    }
    if (q.component) {
      params.push(q.component);
      scope += ` AND e.component = $${params.length}`;
    }
    where += ` AND EXISTS (SELECT 1 FROM trace_steps e WHERE e.trace_id = s.trace_id AND e.is_error${scope})`;
  }
  const rows = await db.query<{
    workflow_type: string; layer: string; component: string; name: string; n: number; msg: string | null; etype: string | null; ex: string;
  }>(
    `SELECT s.workflow_type, s.layer, s.component, s.name, count(*)::int AS n,
            (array_agg(s.status_message ORDER BY s.start_time DESC))[1] AS msg,
            (array_agg(s.attributes->>'error.type' ORDER BY s.start_time DESC))[1] AS etype,
            (array_agg(s.workflow_id ORDER BY s.start_time DESC))[1] AS ex
       FROM trace_steps s
      WHERE ${where}
        AND NOT EXISTS (SELECT 1 FROM trace_steps c WHERE c.trace_id = s.trace_id AND c.parent_span_id = s.span_id AND c.is_error)
      GROUP BY 1, 2, 3, 4
      ORDER BY n DESC LIMIT 500`,
    params,
  );
  const by = new Map<string, ErrorOrigin>();
  for (const r of rows) {
    const operation = normalizeOperation(r.name);
    const k = operationKey(r.workflow_type, r.layer, r.component, operation);
    const o = by.get(k);
    if (o) o.count += Number(r.n);
    else {
      by.set(k, {
        workflowType: r.workflow_type, layer: r.layer, component: r.component, operation, count: Number(r.n),
        errorType: r.etype, message: r.msg, exemplarWorkflowId: r.ex,
      });
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count).slice(0, q.limit);
}

/** One cause an alert points at: an operation slower than its baseline, or an error origin. */
export type AlertCauseData = ({ kind: 'slow' } & SlowOperation) | ({ kind: 'error' } & ErrorOrigin);

export interface AlertCauseQuery {
  /** An error-rate rule (error origins); any other statistic is latency (slow operations). */
  errorRate: boolean;
  fromMs: number;
  toMs: number;
  baselineHours: number;
  workflowType: string | null;
  layer: string | null;
  component: string | null;
  limit: number;
}

/**
 * What an alert points at, for its email and its page: for an error-rate rule the most frequent
 * error origins in traces that failed in its scope (in any layer: an API error usually starts
 * below it), for a latency rule the operations of its scope most over their baseline.
 */
export async function findAlertCauses(db: Queryable, q: AlertCauseQuery): Promise<AlertCauseData[]> {
  if (q.limit <= 0) return [];
  const common = { fromMs: q.fromMs, toMs: q.toMs, workflowType: q.workflowType, layer: q.layer, component: q.component, limit: q.limit };
  if (q.errorRate) return (await topErrorOrigins(db, common)).map((o) => ({ kind: 'error' as const, ...o }));
  return (await topSlowOperations(db, { ...common, baselineHours: q.baselineHours })).map((o) => ({ kind: 'slow' as const, ...o }));
}

/** The span fields root-cause analysis needs (trace_steps columns, schema.ts); times in microseconds since the epoch. */
export type AnalysisSpanRow = SnakeRow<
  Pick<
    SpanStepRecord,
    'traceId' | 'spanId' | 'parentSpanId' | 'workflowId' | 'workflowType' | 'layer' | 'component' | 'name' | 'kind' | 'isError' | 'statusMessage' | 'attributes' | 'events'
  >
> & { start_us: number; end_us: number };

/**
 * Stored spans of several workflows for analysis, grouped by workflow id. A workflow with
 * more than maxSpansPerWorkflow spans (by workflow_sessions.span_count) is left out.
 * The spans are read from the earliest `started_at` of the workflows' sessions on (a session
 * starts at the least start time of its spans, see SESSION_CTES in spans.ts): the partition key
 * is bounded, so daily partitions older than the workflows are pruned at run time instead of
 * probed once each (a list page's workflows are usually of one day or two).
 */
export async function readSpansForAnalysis(db: Queryable,
  workflowIds: readonly string[],
  maxSpansPerWorkflow: number,
): Promise<Map<string, AnalysisSpanRow[]>> {
  const out = new Map<string, AnalysisSpanRow[]>();
  if (workflowIds.length === 0) return out;
  const rows = await db.query<AnalysisSpanRow>(
    `SELECT t.trace_id, t.span_id, t.parent_span_id, t.workflow_id, t.workflow_type, t.layer, t.component, t.name,
            t.kind::int AS kind, t.is_error, t.status_message, t.attributes, t.events,
            (extract(epoch FROM t.start_time) * 1000000)::float8 AS start_us,
            (extract(epoch FROM t.end_time) * 1000000)::float8 AS end_us
       FROM trace_steps t
      WHERE t.workflow_id = ANY($1::text[])
        AND t.workflow_id IN (SELECT workflow_id FROM workflow_sessions WHERE workflow_id = ANY($1::text[]) AND span_count <= $2)
        AND t.start_time >= (SELECT min(started_at) FROM workflow_sessions WHERE workflow_id = ANY($1::text[]) AND span_count <= $2)
      ORDER BY t.workflow_id, t.start_time, t.span_id`,
    [workflowIds, maxSpansPerWorkflow],
    { prepare: true },
  );
  for (const r of rows) {
    r.start_us = Math.round(Number(r.start_us));
    r.end_us = Math.round(Number(r.end_us));
    const list = out.get(r.workflow_id);
    if (list) list.push(r);
    else out.set(r.workflow_id, [r]);
  }
  return out;
}
