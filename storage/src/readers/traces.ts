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

/**
 * The span reads by id run as prepared statements: no partition key in their conditions, so
 * every daily partition is probed (one primary-key or workflow-index probe each), and planning
 * that across all retained partitions cost more than running it (2 ms planned against 0.7 ms run
 * with 36 partitions, warm). Fixed texts, so the driver keeps one plan per connection.
 */
const PREPARED = { prepare: true } as const;

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
    PREPARED,
  );
  return bounded(rows, max);
}

/** The spans of several traces (at most `max` in all), by trace id then start time. */
export async function spansOfTraces(db: Queryable, traceIds: readonly string[], max: number): Promise<SpanList> {
  const rows = await db.query<SpanRow>(
    `SELECT ${SPAN_COLUMNS} FROM trace_steps WHERE trace_id = ANY($1::text[]) ORDER BY trace_id, start_time, span_id LIMIT $2`,
    [traceIds, max + 1],
    PREPARED,
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
  /**
   * How many of the service's spans a search with an attribute tag reads newest first before it
   * asks the tag index for the rest of the range (default `traceSearchScanRows(limit)`).
   */
  scanRows?: number | undefined;
}

/**
 * Spans read newest first before the tag index is asked: a tag on about a tenth of the service's
 * spans or more is answered by the walk alone. Rarer tags cost these reads, then about as many
 * heap pages as the index finds matches (bench/README.md, "Jaeger search by tag").
 */
export const traceSearchScanRows = (limit: number) => Math.min(Math.max(200, 10 * limit), 50_000);

/** The conditions of a search other than service and time, as SQL over trace_steps (params added to `w`). */
function searchConditions(w: Where, q: TraceQuery): string[] {
  const out: string[] = [];
  if (q.operation) out.push(`name = ${w.param(q.operation)}`);
  if (q.minDurationMs !== undefined) out.push(`duration_ms >= ${w.param(q.minDurationMs)}::float8`);
  if (q.maxDurationMs !== undefined) out.push(`duration_ms <= ${w.param(q.maxDurationMs)}::float8`);
  for (const t of q.tags) {
    if ('column' in t) {
      out.push(`${t.column} = ${w.param(t.value)}`);
    } else {
      const k = w.param(t.attribute);
      const v = w.param(t.value);
      out.push(`(attributes ->> ${k}::text = ${v}::text OR resource ->> ${k}::text = ${v}::text)`);
    }
  }
  return out;
}

/**
 * Containment conditions the tag index (trace_steps_tags_idx, GIN on attributes and resource)
 * answers, implied by the attribute tags' `->>` equality: a value whose text is `v` is the string
 * `v`, or a number or boolean printed as `v` (objects and arrays are not looked up). Undefined
 * when no tag can use the index.
 */
function containment(w: Where, tags: readonly TagMatch[]): string | undefined {
  const parts: string[] = [];
  for (const t of tags) {
    if ('column' in t || t.value.startsWith('{') || t.value.startsWith('[')) continue;
    const k = w.param(t.attribute);
    // Parameters go as text and are cast in SQL (a driver may serialise a typed boolean parameter itself).
    const values = [`to_jsonb(${w.param(t.value)}::text)`];
    // PostgreSQL prints a jsonb number without exponent: -12, 0.5, 100000000000000000000.
    if (/^-?\d+(\.\d+)?$/.test(t.value)) values.push(`to_jsonb(${w.param(t.value)}::text::numeric)`);
    if (t.value === 'true' || t.value === 'false') values.push(`to_jsonb(${w.param(t.value)}::text::boolean)`);
    const objects = values.map((v) => `jsonb_build_object(${k}::text, ${v})`);
    parts.push(`(${objects.flatMap((o) => [`attributes @> ${o}`, `resource @> ${o}`]).join(' OR ')})`);
  }
  return parts.length > 0 ? parts.join(' AND ') : undefined;
}

/** Microseconds since the epoch → ISO-8601 with microseconds. */
function microsIso(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/**
 * Trace ids with a span matching every condition, the trace with the most recent matching span
 * first (ties by trace id). A search with an attribute tag reads the service's spans newest first
 * on (component, start_time) and stops at `limit` traces — cheap when the tag is common — and
 * after `scanRows` spans asks the tag index (GIN on attributes and resource, ANDed with the
 * component/time index by a bitmap) for the rest, in time windows going back — cheap when the tag
 * is rare. Other searches walk the service's spans newest first until `limit` traces.
 */
export async function findTraceIds(db: Queryable, q: TraceQuery): Promise<string[]> {
  if (q.limit <= 0) return [];
  if (containment(new Where(), q.tags) !== undefined) return findByTag(db, q);
  const w = new Where().add('component = ?', q.service).add('start_time >= ?::timestamptz', q.startFrom);
  for (const c of searchConditions(w, q)) w.add(c);
  const upTo = w.param(q.startTo);
  const seenP = w.param([]);
  const batchP = w.param(0);
  const sql = `SELECT trace_id, ${micros('start_time')} AS us, ${iso('start_time')} AS at FROM trace_steps ${w}
      AND start_time <= ${upTo}::timestamptz AND trace_id <> ALL(${seenP}::text[])
    ORDER BY start_time DESC, trace_id COLLATE "C" LIMIT ${batchP}`;
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

/** Where a newest-first walk stopped: the last span read (time, trace, span). */
interface WalkPosition {
  us: number;
  at: string;
  traceId: string;
  spanId: string;
}

async function findByTag(db: Queryable, q: TraceQuery): Promise<string[]> {
  const found = new Map<string, number>();
  const scanRows = Math.max(1, q.scanRows ?? traceSearchScanRows(q.limit));
  // 1. The service's spans newest first, in chunks, in the answer's own order (start time
  //    descending, then trace id, then span id), so the first `limit` traces met are the answer.
  let pos: WalkPosition | undefined;
  let read = 0;
  let chunk = Math.min(Math.max(10 * q.limit, 200), scanRows);
  for (;;) {
    const w = new Where().add('component = ?', q.service).add('start_time >= ?::timestamptz', q.startFrom);
    w.add(`start_time <= ${w.param(pos ? pos.at : q.startTo)}::timestamptz`);
    if (pos) w.add(`(start_time < ${w.param(pos.at)}::timestamptz OR (trace_id COLLATE "C", span_id COLLATE "C") > (${w.param(pos.traceId)}, ${w.param(pos.spanId)}))`);
    const hit = searchConditions(w, q).join(' AND ');
    const n = w.param(chunk);
    const rows = await db.query<{ trace_id: string; span_id: string; us: number; at: string; hit: boolean; rn: number }>(
      `SELECT trace_id, span_id, ${micros('start_time')} AS us, ${iso('start_time')} AS at, hit, rn::int AS rn FROM (
         SELECT trace_id, span_id, start_time, coalesce(${hit}, false) AS hit,
                row_number() OVER (ORDER BY start_time DESC, trace_id COLLATE "C", span_id COLLATE "C") AS rn
           FROM trace_steps ${w}
          ORDER BY start_time DESC, trace_id COLLATE "C", span_id COLLATE "C" LIMIT ${n}) s
        WHERE hit OR rn = ${n}
        ORDER BY rn`,
      w.params,
    );
    for (const r of rows) {
      if (r.hit && !found.has(r.trace_id)) {
        found.set(r.trace_id, Number(r.us));
        if (found.size >= q.limit) return [...found.keys()];
      }
    }
    const last = rows[rows.length - 1];
    if (!last || Number(last.rn) < chunk) return [...found.keys()]; // the range is read
    pos = { us: Number(last.us), at: last.at, traceId: last.trace_id, spanId: last.span_id };
    read += chunk;
    if (read >= scanRows) break;
    chunk = Math.min(4 * chunk, scanRows - read);
  }
  // 2. The rest of the range from the tag index, in windows going back from where the walk stopped,
  //    the first one sized for the missing traces at the rate the walk met them.
  const fromUs = Date.parse(q.startFrom) * 1000;
  const toUs = Date.parse(q.startTo) * 1000 + 999;
  let span = Math.max(toUs - pos.us, 1000) * 4 * Math.ceil((q.limit - found.size) / Math.max(found.size, 1));
  let hi: WalkPosition | number = pos;
  for (;;) {
    const hiUs: number = typeof hi === 'number' ? hi : hi.us;
    const lo: number = hiUs - span;
    const whole = !(lo > fromUs); // also when a bound does not parse: one window to startFrom
    const w = new Where().add('component = ?', q.service);
    const loAt = whole ? q.startFrom : microsIso(lo);
    w.add(`start_time >= ${w.param(loAt)}::timestamptz`);
    if (typeof hi === 'number') w.add(`start_time < ${w.param(microsIso(hi))}::timestamptz`);
    else {
      w.add(`start_time <= ${w.param(hi.at)}::timestamptz`);
      w.add(`(start_time < ${w.param(hi.at)}::timestamptz OR (trace_id COLLATE "C", span_id COLLATE "C") > (${w.param(hi.traceId)}, ${w.param(hi.spanId)}))`);
    }
    w.add(containment(w, q.tags)!);
    for (const c of searchConditions(w, q)) w.add(c);
    if (found.size > 0) w.add(`trace_id <> ALL(${w.param([...found.keys()])}::text[])`);
    const rows = await db.query<{ trace_id: string; us: number }>(
      `SELECT trace_id, ${micros('m')} AS us FROM (SELECT trace_id, max(start_time) AS m FROM trace_steps ${w} GROUP BY trace_id) g
        ORDER BY m DESC, trace_id COLLATE "C" LIMIT ${w.param(q.limit - found.size)}`,
      w.params,
    );
    for (const r of rows) found.set(r.trace_id, Number(r.us));
    if (found.size >= q.limit || whole) return [...found.keys()];
    hi = lo;
    span *= 4;
  }
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
