import type { SpanStepRecord } from '../schema.ts';
import { Where, iso, micros, type Queryable, type SnakeRow } from '../sql.ts';

/**
 * Trace and span reader (trace_steps), in the manner of Jaeger's span reader. Contract:
 * - rows are `SpanRow`: ids lowercase hex as stored, times ISO-8601 UTC with microseconds plus
 *   `start_us`/`end_us` (microseconds since the epoch, as numbers);
 * - span lists are ordered by start time then span id and bounded: a reader asked for at most
 *   `max` spans returns up to `max` rows and says whether more exist (`truncated`);
 * - search answers trace ids only; spans are loaded with `spansOfTraces`;
 * - every query is raw SQL (hot paths: a trace by id, the Jaeger search's batched walk, a skip
 *   scan for services), its rows typed here from schema.ts (`SpanRow`).
 */

/** One trace_steps row as every reader returns it (every column but ingested_at), with its times in microseconds. */
export type SpanRow = SnakeRow<Omit<SpanStepRecord, 'ingestedAt'>> & { start_us: number; end_us: number };

const SPAN_COLUMNS = `trace_id, span_id, parent_span_id, workflow_id, workflow_type, layer, component, name, kind::int AS kind,
  status_code::int AS status_code, status_message, is_error, ${iso('start_time')} AS start_time, ${iso('end_time')} AS end_time,
  duration_ms, user_id, scope_name, attributes, resource, events, links,
  ${micros('start_time')} AS start_us, ${micros('end_time')} AS end_us`;

export interface SpanList {
  spans: SpanRow[];
  /** More spans matched than were returned. */
  truncated: boolean;
}

function bounded(rows: SpanRow[], max: number): SpanList {
  const truncated = rows.length > max;
  if (truncated) rows.length = max;
  for (const r of rows) {
    r.start_us = Number(r.start_us);
    r.end_us = Number(r.end_us);
  }
  return { spans: rows, truncated };
}

/** The spans of one workflow or one trace (at most `max`), by start time. */
export async function spansOf(db: Queryable, of: { workflowId: string } | { traceId: string }, max: number): Promise<SpanList> {
  const w = 'workflowId' in of ? new Where().add('workflow_id = ?', of.workflowId) : new Where().add('trace_id = ?', of.traceId);
  const rows = await db.query<SpanRow>(
    `SELECT ${SPAN_COLUMNS} FROM trace_steps ${w} ORDER BY start_time, span_id LIMIT ${w.param(max + 1)}`,
    w.params,
  );
  return bounded(rows, max);
}

/** The spans of several traces (at most `max` in all), by trace id then start time. */
export async function spansOfTraces(db: Queryable, traceIds: readonly string[], max: number): Promise<SpanList> {
  const rows = await db.query<SpanRow>(
    `SELECT ${SPAN_COLUMNS} FROM trace_steps WHERE trace_id = ANY($1::text[]) ORDER BY trace_id, start_time, span_id LIMIT $2`,
    [traceIds, max + 1],
  );
  return bounded(rows, max);
}

/** The workflows a trace's spans belong to, sorted. */
export async function workflowIdsOfTrace(db: Queryable, traceId: string): Promise<string[]> {
  const rows = await db.query<{ workflow_id: string }>('SELECT DISTINCT workflow_id FROM trace_steps WHERE trace_id = $1 ORDER BY workflow_id', [traceId]);
  return rows.map((r) => r.workflow_id);
}

/** Distinct span components (Jaeger "services"), sorted; a skip scan, so cheap on large tables. */
export async function listServices(db: Queryable, limit = 10000): Promise<string[]> {
  const rows = await db.query<{ c: string }>(
    `WITH RECURSIVE s AS (
       SELECT min(component) AS c FROM trace_steps
       UNION ALL
       SELECT (SELECT min(component) FROM trace_steps WHERE component > s.c) FROM s WHERE s.c IS NOT NULL
     ) SELECT c FROM s WHERE c IS NOT NULL LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.c);
}

/** Distinct span names and kinds of a component, sorted by name then kind. */
export async function listOperations(db: Queryable, service: string, kind?: number, limit = 10000): Promise<{ name: string; kind: number }[]> {
  const w = new Where().add('component = ?', service).add('kind = ?', kind);
  const rows = await db.query<{ name: string; kind: number }>(
    `SELECT DISTINCT name, kind::int AS kind FROM trace_steps ${w} ORDER BY name, kind LIMIT ${w.param(limit)}`,
    w.params,
  );
  return rows.map((r) => ({ name: r.name, kind: Number(r.kind) }));
}

/** A tag condition of a trace search: on a dedicated column, or on span then resource attributes. */
export type TagMatch =
  | { column: 'workflow_type' | 'workflow_id' | 'layer'; value: string }
  | { column: 'is_error'; value: boolean }
  | { column: 'kind' | 'status_code'; value: number }
  | { attribute: string; value: string };

export interface TraceQuery {
  service: string;
  operation?: string | undefined;
  /** inclusive bounds on span start, ISO-8601 */
  startFrom: string;
  startTo: string;
  minDurationMs?: number | undefined;
  maxDurationMs?: number | undefined;
  tags: readonly TagMatch[];
  limit: number;
}

/**
 * Trace ids with a span matching every condition, the trace with the most recent matching span
 * first (ties by trace id). Walks the service's spans newest first on (component, start_time)
 * in batches and stops at `limit` distinct traces, so a search reads about limit / selectivity
 * spans rather than every span of the service in the range (no tag index: a GIN index on
 * attributes was measured to double the cost of ingesting a span; bench/README.md).
 */
export async function findTraceIds(db: Queryable, q: TraceQuery): Promise<string[]> {
  if (q.limit <= 0) return [];
  const w = new Where().add('component = ?', q.service).add('start_time >= ?::timestamptz', q.startFrom);
  if (q.operation) w.add('name = ?', q.operation);
  w.add('duration_ms >= ?::float8', q.minDurationMs).add('duration_ms <= ?::float8', q.maxDurationMs);
  for (const t of q.tags) {
    if ('column' in t) {
      w.add(`${t.column} = ?`, t.value);
    } else {
      const k = w.param(t.attribute);
      const v = w.param(t.value);
      w.add(`(attributes ->> ${k}::text = ${v}::text OR resource ->> ${k}::text = ${v}::text)`);
    }
  }
  const upTo = w.param(q.startTo);
  const seenP = w.param([]);
  const batchP = w.param(0);
  const sql = `SELECT trace_id, ${micros('start_time')} AS us, ${iso('start_time')} AS at FROM trace_steps ${w}
      AND start_time <= ${upTo}::timestamptz AND trace_id <> ALL(${seenP}::text[])
    ORDER BY start_time DESC, trace_id LIMIT ${batchP}`;
  const found = new Map<string, number>();
  let cursor = q.startTo;
  for (;;) {
    const want = q.limit - found.size;
    // Spans of one trace on one service come in small groups: ask for a few per missing trace.
    const batch = Math.max(2 * want, 20);
    const params = [...w.params];
    params[params.length - 3] = cursor;
    params[params.length - 2] = [...found.keys()];
    params[params.length - 1] = batch;
    const rows = await db.query<{ trace_id: string; us: number; at: string }>(sql, params);
    for (const r of rows) if (!found.has(r.trace_id) && found.size < q.limit) found.set(r.trace_id, Number(r.us));
    if (rows.length < batch || found.size >= q.limit) break;
    // Rows at the cursor's own microsecond come again next time unless their trace is already found.
    cursor = rows[rows.length - 1]!.at;
  }
  return [...found].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).map(([id]) => id);
}

/** Calls between components (parent span's component → child's) of spans started in [fromIso, toIso]. */
export async function serviceDependencies(db: Queryable, fromIso: string, toIso: string, limit = 10000): Promise<{ parent: string; child: string; callCount: number }[]> {
  const rows = await db.query<{ parent: string; child: string; n: number }>(
    `SELECT p.component AS parent, c.component AS child, count(*)::float8 AS n
       FROM trace_steps c
       JOIN trace_steps p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
      WHERE c.start_time >= $1::timestamptz AND c.start_time <= $2::timestamptz
        AND p.start_time >= $1::timestamptz - interval '1 hour' AND p.start_time <= $2::timestamptz
        AND p.component <> c.component
      GROUP BY 1, 2 ORDER BY 1, 2 LIMIT $3`,
    [fromIso, toIso, limit],
  );
  return rows.map((r) => ({ parent: r.parent, child: r.child, callCount: Number(r.n) }));
}
