import { copyLine, nanosToIso, type CopyValue } from './copy.ts';
import type { Database, Tx } from './driver.ts';
import type { SpanEventJson, SpanLinkJson, WorkflowStatus } from './schema.ts';
import { pendingOperationInsert, pendingOperationRows, type OperationDelta } from './baselines.ts';
import { pendingSnapshotInsert, pendingSnapshotRows, type SnapshotDelta } from './snapshots.ts';

/** One span as the collector maps it, ready to store. Ids are lowercase hex. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  workflowId: string;
  workflowType: string;
  layer: string;
  component: string;
  name: string;
  kind: number;
  statusCode: number;
  statusMessage: string | null;
  isError: boolean;
  startUnixNano: bigint;
  endUnixNano: bigint;
  userId: string | null;
  scopeName: string | null;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: SpanEventJson[];
  links: SpanLinkJson[];
}

/** One error span or exception event. */
export interface ErrorRecord {
  traceId: string;
  spanId: string;
  seq: number;
  correlationId: string;
  workflowType: string;
  layer: string;
  component: string;
  spanName: string;
  severity: string;
  errorType: string;
  message: string;
  stack: string | null;
  occurredUnixNano: bigint;
  attributes: Record<string, unknown>;
}

/**
 * A span seen for the first time (stored or sampled out): what workflow_sessions counts.
 * Sessions count every span, so "how many checkouts failed" is answered from all traffic.
 */
export interface SpanObservation {
  workflowId: string;
  workflowType: string;
  userId: string | null;
  traceId: string;
  startUnixNano: bigint;
  endUnixNano: bigint;
  isError: boolean;
  isRoot: boolean;
  /** false when sampling dropped (or is holding) the span. */
  kept: boolean;
}

export interface SpanBatch {
  spans: readonly SpanRecord[];
  errors: readonly ErrorRecord[];
  /**
   * When given, sessions are counted from these (the caller guarantees each is applied once)
   * and stored spans only raise the sessions' keep flag. When absent, sessions are counted
   * from the spans that were stored for the first time.
   */
  observations?: readonly SpanObservation[];
  /**
   * With observations: the caller marks the stored spans' sessions kept in its counts statement
   * (applyFlushCounts' keptWorkflows, in its one sorted pass over the sessions), so the move only
   * inserts the spans and takes no session lock of its own.
   */
  keepMarkedByCounts?: boolean;
}

export interface WriteResult {
  /** Spans newly stored by this write. */
  inserted: number;
  /** Spans already stored (a re-delivery); not counted again anywhere. */
  duplicates: number;
  /** Sessions created or whose status changed (observation mode only), for live events. */
  transitions?: SessionTransition[];
}

export interface SessionTransition {
  workflowId: string;
  workflowType: string;
  /** null when the session was created by this write. */
  from: WorkflowStatus | null;
  to: WorkflowStatus;
  userId: string | null;
  traceId: string | null;
  durationMs: number | null;
  errorCount: number;
}

/** trace_steps columns in the order spanValues() gives them (COPY loads, benchmarks). */
export const SPAN_COLUMNS = [
  'trace_id',
  'span_id',
  'parent_span_id',
  'workflow_id',
  'workflow_type',
  'layer',
  'component',
  'name',
  'kind',
  'status_code',
  'status_message',
  'is_error',
  'start_time',
  'end_time',
  'duration_ms',
  'user_id',
  'scope_name',
  'attributes',
  'resource',
  'events',
  'links',
] as const;

const ERROR_COLUMNS = [
  'trace_id',
  'span_id',
  'seq',
  'correlation_id',
  'workflow_type',
  'layer',
  'component',
  'span_name',
  'severity',
  'error_type',
  'message',
  'stack',
  'occurred_at',
  'attributes',
] as const;

/** One span as trace_steps column values, in SPAN_COLUMNS order. */
export const spanValues = (s: SpanRecord): CopyValue[] => [
  s.traceId,
  s.spanId,
  s.parentSpanId,
  s.workflowId,
  s.workflowType,
  s.layer,
  s.component,
  s.name,
  s.kind,
  s.statusCode,
  s.statusMessage,
  s.isError,
  nanosToIso(s.startUnixNano),
  nanosToIso(s.endUnixNano),
  Number(s.endUnixNano - s.startUnixNano) / 1e6,
  s.userId,
  s.scopeName,
  s.attributes,
  s.resource,
  s.events,
  s.links,
];

const errorValues = (e: ErrorRecord) => [
  e.traceId,
  e.spanId,
  e.seq,
  e.correlationId,
  e.workflowType,
  e.layer,
  e.component,
  e.spanName,
  e.severity,
  e.errorType,
  e.message,
  e.stack,
  nanosToIso(e.occurredUnixNano),
  e.attributes,
];

const toObject = (columns: readonly string[], values: unknown[]) =>
  Object.fromEntries(columns.map((c, i) => [c, values[i]]));

const cols = (c: readonly string[]) => c.join(', ');

// Spans are loaded into a per-connection staging table with COPY (the fastest path into
// PostgreSQL), then moved with INSERT … ON CONFLICT DO NOTHING so a re-delivered span is
// skipped. Sessions are counted from observations: the caller's (every span of a request,
// applied once thanks to its receipt) or, without them, the spans stored for the first time.
const STAGING_DDL = `
  CREATE TEMP TABLE IF NOT EXISTS fs_staging_spans (LIKE trace_steps INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`;

// Without observations from the caller, sessions count the spans stored for the first time:
// the rows this insert RETURNs become the observations that UPSERT_SESSIONS applies.
const MOVE_SPANS = `
WITH ins AS (
  INSERT INTO trace_steps (${cols(SPAN_COLUMNS)})
  SELECT ${cols(SPAN_COLUMNS)} FROM fs_staging_spans
  ON CONFLICT DO NOTHING
  RETURNING workflow_id, workflow_type, user_id, trace_id, start_time, end_time, is_error, parent_span_id IS NULL AS is_root
), obs AS (
  INSERT INTO fs_staging_observations (workflow_id, workflow_type, user_id, trace_id, start_time, end_time, span_count, error_count, root_ok, kept)
  SELECT workflow_id, workflow_type, user_id, trace_id, start_time, end_time, 1, is_error::int, is_root AND NOT is_error, true FROM ins
  RETURNING 1
)
SELECT count(*)::integer AS inserted FROM obs`;

// Spans stored while the caller's counts statement marks their sessions kept.
const MOVE_SPANS_ONLY = `
WITH ins AS (
  INSERT INTO trace_steps (${cols(SPAN_COLUMNS)})
  SELECT ${cols(SPAN_COLUMNS)} FROM fs_staging_spans
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT count(*)::integer AS inserted FROM ins`;

// Spans stored while sessions are counted from observations: only mark those workflows kept.
const MOVE_SPANS_KEEP_ONLY = `
WITH ins AS (
  INSERT INTO trace_steps (${cols(SPAN_COLUMNS)})
  SELECT ${cols(SPAN_COLUMNS)} FROM fs_staging_spans
  ON CONFLICT DO NOTHING
  RETURNING workflow_id
), kept AS (
  UPDATE workflow_sessions ws SET keep = true, updated_at = now()
   WHERE ws.workflow_id IN (SELECT DISTINCT workflow_id FROM ins) AND NOT ws.keep
  RETURNING 1
)
SELECT (SELECT count(*) FROM ins)::integer AS inserted`;

const OBSERVATION_COLUMNS = [
  'workflow_id',
  'workflow_type',
  'user_id',
  'trace_id',
  'start_time',
  'end_time',
  'span_count',
  'error_count',
  'root_ok',
  'kept',
] as const;

interface WorkflowObservations {
  workflowId: string;
  workflowType: string;
  typeStart: bigint;
  userId: string | null;
  userStart: bigint;
  traceId: string;
  traceStart: bigint;
  start: bigint;
  end: bigint;
  spans: number;
  errors: number;
  rootOk: boolean;
  kept: boolean;
}

/**
 * One row per workflow instead of one per span: the same aggregation the session upsert does
 * (earliest known type, earliest user, earliest trace, first start, last end), done before the
 * COPY so a request of N spans over W workflows loads W rows.
 */
function aggregateObservations(observations: readonly SpanObservation[]): CopyValue[][] {
  const byWorkflow = new Map<string, WorkflowObservations>();
  for (const o of observations) {
    let w = byWorkflow.get(o.workflowId);
    if (!w) {
      w = {
        workflowId: o.workflowId,
        workflowType: o.workflowType,
        typeStart: o.startUnixNano,
        userId: o.userId,
        userStart: o.startUnixNano,
        traceId: o.traceId,
        traceStart: o.startUnixNano,
        start: o.startUnixNano,
        end: o.endUnixNano,
        spans: 0,
        errors: 0,
        rootOk: false,
        kept: false,
      };
      byWorkflow.set(o.workflowId, w);
    }
    const known = o.workflowType !== 'unknown';
    const haveKnown = w.workflowType !== 'unknown';
    if ((known && !haveKnown) || (known === haveKnown && o.startUnixNano < w.typeStart)) {
      w.workflowType = o.workflowType;
      w.typeStart = o.startUnixNano;
    }
    if (o.userId !== null && (w.userId === null || o.startUnixNano < w.userStart)) {
      w.userId = o.userId;
      w.userStart = o.startUnixNano;
    }
    if (o.startUnixNano < w.traceStart) {
      w.traceId = o.traceId;
      w.traceStart = o.startUnixNano;
    }
    if (o.startUnixNano < w.start) w.start = o.startUnixNano;
    if (o.endUnixNano > w.end) w.end = o.endUnixNano;
    w.spans++;
    if (o.isError) w.errors++;
    if (o.isRoot && !o.isError) w.rootOk = true;
    if (o.kept) w.kept = true;
  }
  return [...byWorkflow.values()].map((w) => [
    w.workflowId,
    w.workflowType,
    w.userId,
    w.traceId,
    nanosToIso(w.start),
    nanosToIso(w.end),
    w.spans,
    w.errors,
    w.rootOk,
    w.kept,
  ]);
}

const OBSERVATION_DDL = `
  CREATE TEMP TABLE IF NOT EXISTS fs_staging_observations (
    workflow_id text, workflow_type text, user_id text, trace_id text, start_time timestamptz,
    end_time timestamptz, span_count integer, error_count integer, root_ok boolean, kept boolean
  ) ON COMMIT DELETE ROWS`;

// Sessions from the observations staged in this transaction; returns the sessions created or
// whose status changed (for live events).
// `unique`: the source has one row per workflow already (aggregateObservations did the same
// aggregation in code), so the rows are taken as they are instead of grouped again.
const SESSION_CTES = (source: string, unique = false) => `
agg AS (${unique ? `
  SELECT workflow_id, workflow_type, user_id, trace_id AS first_trace_id, start_time AS started_at, end_time AS ended_at,
         span_count, error_count, coalesce(root_ok, false) AS root_ok, kept AS keep
    FROM ${source}` : `
  SELECT workflow_id,
         (array_agg(workflow_type ORDER BY (workflow_type = 'unknown'), start_time))[1] AS workflow_type,
         (array_agg(user_id ORDER BY start_time) FILTER (WHERE user_id IS NOT NULL))[1] AS user_id,
         (array_agg(trace_id ORDER BY start_time))[1] AS first_trace_id,
         min(start_time) AS started_at,
         max(end_time) AS ended_at,
         sum(span_count)::integer AS span_count,
         sum(error_count)::integer AS error_count,
         coalesce(bool_or(root_ok), false) AS root_ok,
         bool_or(kept) AS keep
    FROM ${source}
   GROUP BY workflow_id`}
), old AS (
  -- The sessions as they were before this statement (a CTE sees the statement's snapshot).
  SELECT workflow_id, status FROM workflow_sessions WHERE workflow_id IN (SELECT workflow_id FROM agg)
), up AS (
INSERT INTO workflow_sessions AS ws
       (workflow_id, workflow_type, status, user_id, first_trace_id, started_at, ended_at, span_count, error_count, keep)
SELECT workflow_id, workflow_type,
       CASE WHEN error_count > 0 THEN 'failed' WHEN root_ok THEN 'completed' ELSE 'in_progress' END,
       user_id, first_trace_id, started_at, ended_at, span_count, error_count, keep
  FROM agg
 -- A row of no span only marks an existing session kept (applyFlushCounts' keptWorkflows).
 WHERE span_count > 0 OR EXISTS (SELECT 1 FROM workflow_sessions e WHERE e.workflow_id = agg.workflow_id)
 ORDER BY workflow_id
ON CONFLICT (workflow_id) DO UPDATE SET
  workflow_type = CASE WHEN ws.workflow_type = 'unknown' THEN EXCLUDED.workflow_type ELSE ws.workflow_type END,
  user_id = coalesce(ws.user_id, EXCLUDED.user_id),
  started_at = least(ws.started_at, EXCLUDED.started_at),
  ended_at = greatest(ws.ended_at, EXCLUDED.ended_at),
  span_count = ws.span_count + EXCLUDED.span_count,
  error_count = ws.error_count + EXCLUDED.error_count,
  keep = ws.keep OR EXCLUDED.keep,
  status = CASE
    WHEN ws.status = 'failed' OR EXCLUDED.status = 'failed' THEN 'failed'
    WHEN EXCLUDED.status = 'completed' THEN 'completed'
    ELSE ws.status END,
  updated_at = now()
RETURNING workflow_id, workflow_type, status, user_id, first_trace_id, duration_ms, error_count
)`;
const TRANSITIONS = `SELECT up.workflow_id, up.workflow_type, old.status AS from_status, up.status AS to_status, up.user_id,
       up.first_trace_id, up.duration_ms, up.error_count
  FROM up LEFT JOIN old USING (workflow_id)
 WHERE old.status IS DISTINCT FROM up.status`;
const UPSERT_SESSIONS_FROM = (source: string, unique = false) => `WITH ${SESSION_CTES(source, unique)} ${TRANSITIONS}`;

// Observations staged by MOVE_SPANS (spans stored for the first time) …
const UPSERT_SESSIONS = UPSERT_SESSIONS_FROM('fs_staging_observations');
// … or the caller's, already one row per workflow, as one JSON parameter: one statement (one
// round trip) instead of a COPY into staging and an upsert from it.
const OBSERVATIONS_JSON = (p: string) => `jsonb_to_recordset(${p}::text::jsonb) AS r(workflow_id text, workflow_type text, user_id text, trace_id text,
     start_time timestamptz, end_time timestamptz, span_count integer, error_count integer, root_ok boolean, kept boolean)`;
const UPSERT_SESSIONS_JSON = UPSERT_SESSIONS_FROM(OBSERVATIONS_JSON('$1'), true);

/**
 * Receipts are inserted in the order of their parameter (a function scan keeps it; DISTINCT
 * would hash them into any order), which receiptOrder makes sorted and unique. Concurrent
 * flushes thus take the receipts' index locks in one order: a flush waiting for a receipt
 * that another flush inserted (two copies of one request) waits for that flush to commit or
 * roll back, and neither can hold what the other waits for.
 */
const CLAIM_RECEIPTS = `INSERT INTO ingest_receipts (hash) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`;
const receiptOrder = (hashes: readonly string[]): string[] => [...new Set(hashes)].sort();

/** What a flush counts from every span of its requests, kept or sampled out. */
export interface FlushCounts {
  /** Hashes of the requests' bodies (see claimReceipts). */
  receipts: readonly string[];
  observations: readonly SpanObservation[];
  snapshots: readonly SnapshotDelta[];
  /** Per-operation minute deltas: recorded as one pending row, folded into operation_stats later. */
  operations: readonly OperationDelta[];
  /**
   * The spans this flush stores (writeSpanBatch with keepMarkedByCounts): their sessions are
   * marked kept here, in the same sorted pass as the observations' sessions, so no flush locks a
   * session out of order. A workflow without an observation in this flush and without a session
   * is left alone.
   */
  stored?: readonly Pick<SpanRecord, 'workflowId' | 'startUnixNano' | 'endUnixNano'>[];
}

/**
 * Observation rows (aggregateObservations: one per workflow, `kept` last) with the kept flag
 * raised for the workflows of `stored` spans, and a row of no span for each such workflow
 * without one: it changes nothing but keep (counts add 0, the status and a known type stay; its
 * times, the stored spans' first start and last end, were counted when those spans were
 * observed), and only where the session exists.
 */
function withKept(rows: CopyValue[][], stored: NonNullable<FlushCounts['stored']>): CopyValue[][] {
  if (stored.length === 0) return rows;
  const extra = new Map<string, { start: bigint; end: bigint }>();
  for (const s of stored) {
    const e = extra.get(s.workflowId);
    if (!e) extra.set(s.workflowId, { start: s.startUnixNano, end: s.endUnixNano });
    else {
      if (s.startUnixNano < e.start) e.start = s.startUnixNano;
      if (s.endUnixNano > e.end) e.end = s.endUnixNano;
    }
  }
  for (const r of rows) {
    if (extra.delete(r[0] as string)) r[r.length - 1] = true;
  }
  for (const [w, e] of extra) rows.push([w, 'unknown', null, null, nanosToIso(e.start), nanosToIso(e.end), 0, 0, false, true]);
  return rows;
}

/** A session transition as the flush statement and the session upserts return it. */
interface TransitionRow {
  workflow_id: string;
  workflow_type: string;
  from_status: WorkflowStatus | null;
  to_status: WorkflowStatus;
  user_id: string | null;
  first_trace_id: string | null;
  duration_ms: number | null;
  error_count: number;
}

/**
 * A flush's counts in one statement (one round trip): claims the receipts, applies the
 * sessions of every observation, and records the snapshot and per-operation deltas as pending
 * rows, one per workflow type each (foldPendingSnapshots and foldPendingOperations move them
 * into their tables later; readers count pending rows too), on the assumption that every
 * receipt is new. Returns the receipts that
 * were new and the session transitions. When fewer receipts were new than given (an exporter's
 * retry is in the flush), the counts were applied for a request already counted: the caller must
 * roll the transaction back and apply only the new requests' counts (claimReceipts, then each
 * writer on its own), as it did before this statement existed.
 */
export async function applyFlushCounts(tx: Tx, c: FlushCounts): Promise<{ fresh: Set<string>; transitions: SessionTransition[] }> {
  const rows = await tx.query<TransitionRow & { hash: string | null }>(
    `WITH fresh AS (${CLAIM_RECEIPTS} RETURNING hash),
     ${SESSION_CTES(OBSERVATIONS_JSON('$2'), true)},
     snap AS (${pendingSnapshotInsert('$3', '$4')} RETURNING 1),
     ops AS (${pendingOperationInsert('$5', '$6')} RETURNING 1),
     transitions AS (${TRANSITIONS})
     SELECT hash, NULL AS workflow_id, NULL AS workflow_type, NULL AS from_status, NULL AS to_status, NULL AS user_id,
            NULL AS first_trace_id, NULL::float8 AS duration_ms, NULL::integer AS error_count FROM fresh
     UNION ALL
     SELECT NULL, workflow_id, workflow_type, from_status, to_status, user_id, first_trace_id, duration_ms, error_count FROM transitions`,
    [
      receiptOrder(c.receipts),
      jsonRows(OBSERVATION_COLUMNS, withKept(aggregateObservations(c.observations), c.stored ?? [])),
      ...pendingSnapshotRows(c.snapshots),
      ...pendingOperationRows(c.operations),
    ],
  );
  const fresh = new Set<string>();
  const transitions: SessionTransition[] = [];
  for (const r of rows) {
    if (r.hash !== null) {
      fresh.add(r.hash);
      continue;
    }
    transitions.push({
      workflowId: r.workflow_id,
      workflowType: r.workflow_type,
      from: r.from_status,
      to: r.to_status,
      userId: r.user_id,
      traceId: r.first_trace_id,
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      errorCount: Number(r.error_count),
    });
  }
  return { fresh, transitions };
}

// Error records are few (error spans and exception events): one INSERT from a JSON parameter.
const INSERT_ERRORS_JSON = `
INSERT INTO error_logs (${cols(ERROR_COLUMNS)})
SELECT ${cols(ERROR_COLUMNS)} FROM jsonb_populate_recordset(NULL::error_logs, $1::text::jsonb)
ON CONFLICT (trace_id, span_id, seq) DO NOTHING`;

/** Rows as one JSON text parameter; NUL characters dropped as in COPY (jsonb refuses \u0000). */
const jsonRows = (columns: readonly string[], rows: readonly CopyValue[][]): string =>
  JSON.stringify(
    rows.map((r) => toObject(columns, r as unknown[])),
    (_key, v: unknown) => (typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '') : v),
  );

/**
 * Stores a batch of spans and error records in the caller's transaction.
 *
 * Contract: idempotent (re-delivering the same spans inserts nothing and counts nothing
 * again); durable once the caller's transaction commits. Returns how many spans were new.
 */
export async function writeSpanBatch(tx: Tx, batch: SpanBatch): Promise<WriteResult> {
  if (batch.spans.length === 0 && batch.errors.length === 0 && !batch.observations?.length) {
    return { inserted: 0, duplicates: 0 };
  }
  // Round trips are what a flush pays for under load (measured with bench/: ~40 ms a statement
  // on a busy 2-core machine), so the staging tables are made sure of in one call, and sessions
  // and error records are written with one statement each.
  await tx.query(`${STAGING_DDL};${OBSERVATION_DDL};DELETE FROM fs_staging_observations`);
  const given = batch.observations;
  let transitions: SessionTransition[] | undefined;
  if (given && given.length > 0) {
    // Sessions first, so the keep update below finds rows of brand-new workflows.
    transitions = await upsertSessions(tx, UPSERT_SESSIONS_JSON, [jsonRows(OBSERVATION_COLUMNS, aggregateObservations(given))]);
  }
  let inserted = 0;
  if (batch.spans.length > 0) {
    // Measured on this machine (pnpm bench): COPY into staging + INSERT … ON CONFLICT runs at
    // about 0.6 of a raw COPY into the indexed table, faster than checking for stored spans
    // first and COPYing the rest straight in (about 0.4), and it needs no race handling.
    const rows = batch.spans.map(spanValues);
    await tx.copyIn('fs_staging_spans', SPAN_COLUMNS, rows.map(copyLine), () =>
      rows.map((r) => toObject(SPAN_COLUMNS, r)),
    );
    const result = await tx.query<{ inserted: number }>(given ? (batch.keepMarkedByCounts ? MOVE_SPANS_ONLY : MOVE_SPANS_KEEP_ONLY) : MOVE_SPANS);
    inserted = Number(result[0]?.inserted ?? 0);
    if (!given && inserted > 0) transitions = await upsertSessions(tx, UPSERT_SESSIONS);
  }
  if (batch.errors.length > 0) {
    await tx.query(INSERT_ERRORS_JSON, [jsonRows(ERROR_COLUMNS, batch.errors.map(errorValues))]);
  }
  return { inserted, duplicates: batch.spans.length - inserted, ...(transitions ? { transitions } : {}) };
}

/** Convenience: one batch in its own transaction. */
export function writeSpans(db: Database, batch: SpanBatch): Promise<WriteResult> {
  return db.transaction((tx) => writeSpanBatch(tx, batch));
}

async function upsertSessions(tx: Tx, statement: string, params?: unknown[]): Promise<SessionTransition[]> {
  const changed = await tx.query<TransitionRow>(statement, params);
  return changed.map((r) => ({
    workflowId: r.workflow_id,
    workflowType: r.workflow_type,
    from: r.from_status,
    to: r.to_status,
    userId: r.user_id,
    traceId: r.first_trace_id,
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
    errorCount: Number(r.error_count),
  }));
}

/**
 * Records request receipts; returns the hashes that were new. A hash already present means
 * the request was committed before (an exporter retry): its counts must not be added again.
 */
export async function claimReceipts(tx: Tx, hashes: readonly string[]): Promise<Set<string>> {
  if (hashes.length === 0) return new Set();
  const rows = await tx.query<{ hash: string }>(`${CLAIM_RECEIPTS} RETURNING hash`, [receiptOrder(hashes)]);
  return new Set(rows.map((r) => r.hash));
}

/** Deletes receipts older than maxAgeMs. Returns how many. */
export async function pruneReceipts(db: Database, maxAgeMs: number, now = new Date()): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `WITH d AS (DELETE FROM ingest_receipts WHERE received_at < $1::timestamptz RETURNING 1) SELECT count(*)::int AS n FROM d`,
    [new Date(now.getTime() - maxAgeMs).toISOString()],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Marks workflows still in progress longer than maxDurationMs after their start as timed
 * out (served by the partial index on in-progress sessions). Returns their ids.
 */
export async function markTimedOutWorkflows(db: Database, maxDurationMs: number, now = new Date()): Promise<string[]> {
  const rows = await db.query<{ workflow_id: string }>(
    `UPDATE workflow_sessions SET status = 'timed_out', updated_at = now()
      WHERE status = 'in_progress' AND started_at < $1::timestamptz
      RETURNING workflow_id`,
    [new Date(now.getTime() - maxDurationMs).toISOString()],
  );
  return rows.map((r) => r.workflow_id);
}
