import type { FastifyInstance } from 'fastify';
import { workflowStats, type Database } from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import { buildTree, criticalPath, layerBreakdown, walk, type SpanNode } from '../analysis.ts';
import {
  Where, badRequest, bool, commonResponses, dateTime, int, iso, micros, nnum, notFound, nstr, num, obj, pageQuery,
  pageResponse, parseTime, str, text, type Page,
} from '../http.ts';

export const WORKFLOW_STATUSES = ['in_progress', 'completed', 'failed', 'timed_out'] as const;

/** `sort` of the workflow list: a column, descending with a leading `-`; ties by start time then id. */
const WORKFLOW_SORTS: Record<string, string> = {
  '-started_at': 'started_at DESC',
  started_at: 'started_at ASC',
  '-duration_ms': 'duration_ms DESC NULLS LAST, started_at DESC',
  duration_ms: 'duration_ms ASC NULLS LAST, started_at DESC',
  '-error_count': 'error_count DESC, started_at DESC',
  '-span_count': 'span_count DESC, started_at DESC',
};

const WORKFLOW_COLUMNS = `workflow_id, workflow_type, status, user_id, first_trace_id,
  ${iso('started_at')} AS started_at, ${iso('ended_at')} AS ended_at, duration_ms, span_count, error_count, keep AS stored`;

export const workflowSchema = obj({
  workflow_id: str, workflow_type: str, status: str, user_id: nstr, first_trace_id: nstr, started_at: str,
  ended_at: str, duration_ms: nnum, span_count: int, error_count: int, stored: bool,
});

export const spanSchema = obj({
  trace_id: str, span_id: str, parent_span_id: nstr, workflow_id: str, workflow_type: str, layer: str, component: str,
  name: str, kind: int, status_code: int, status_message: nstr, is_error: bool, start_time: str, end_time: str,
  duration_ms: num, self_ms: num, user_id: nstr, attributes: { type: 'object', additionalProperties: true },
  events: { type: 'array', items: { type: 'object', additionalProperties: true } },
  scope_name: nstr, resource: { type: 'object', additionalProperties: true },
  links: { type: 'array', items: { type: 'object', additionalProperties: true } },
  children: { type: 'array', items: { type: 'object', additionalProperties: true } },
});

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  workflow_id: string;
  workflow_type: string;
  layer: string;
  component: string;
  name: string;
  kind: number;
  status_code: number;
  status_message: string | null;
  is_error: boolean;
  start_time: string;
  end_time: string;
  duration_ms: number;
  user_id: string | null;
  scope_name: string | null;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: { name: string; time: string; attributes: Record<string, unknown> }[];
  links: { traceId: string; spanId: string; attributes: Record<string, unknown> }[];
  start_us: number;
  end_us: number;
}

export const SPAN_COLUMNS = `trace_id, span_id, parent_span_id, workflow_id, workflow_type, layer, component, name, kind::int AS kind,
  status_code::int AS status_code, status_message, is_error, ${iso('start_time')} AS start_time, ${iso('end_time')} AS end_time,
  duration_ms, user_id, scope_name, attributes, resource, events, links,
  ${micros('start_time')} AS start_us, ${micros('end_time')} AS end_us`;

/** Loads spans (bounded) and shapes them as a tree with self times, per-layer time and critical path. */
export async function spanAnalysis(db: Database, where: Where, maxSpans: number) {
  const rows = await db.query<SpanRow>(
    `SELECT ${SPAN_COLUMNS} FROM trace_steps ${where} ORDER BY start_time, span_id LIMIT ${where.param(maxSpans + 1)}`,
    where.params,
  );
  const truncated = rows.length > maxSpans;
  if (truncated) rows.length = maxSpans;
  for (const r of rows) {
    r.start_us = Number(r.start_us);
    r.end_us = Number(r.end_us);
  }
  const roots = buildTree(rows);
  const shape = (n: SpanNode<SpanRow>): Record<string, unknown> => {
    const { start_us: _s, end_us: _e, ...span } = n.span;
    return { ...span, self_ms: n.self_us / 1000, children: n.children.map(shape) };
  };
  let count = 0;
  walk(roots, () => count++);
  const path = criticalPath(roots);
  return {
    span_count: count,
    truncated,
    spans: roots.map(shape),
    layer_breakdown: layerBreakdown(roots),
    critical_path: {
      duration_ms: path.reduce((s, p) => s + (p.end_us - p.start_us), 0) / 1000,
      segments: path.map(({ start_us, end_us, ...p }) => ({
        ...p,
        start_time: new Date(start_us / 1000).toISOString(),
        offset_ms: (start_us - (path[0]?.start_us ?? start_us)) / 1000,
        duration_ms: (end_us - start_us) / 1000,
      })),
    },
  };
}

export const analysisSchema = {
  span_count: int,
  truncated: bool,
  spans: { type: 'array', items: spanSchema },
  layer_breakdown: {
    type: 'array',
    items: obj({ layer: str, self_ms: num, span_count: int, share: num }),
  },
  critical_path: obj({
    duration_ms: num,
    segments: {
      type: 'array',
      items: obj({ trace_id: nstr, span_id: nstr, name: nstr, layer: nstr, component: nstr, start_time: str, offset_ms: num, duration_ms: num }),
    },
  }),
};

interface ListQuery extends Page {
  workflow_type?: string;
  status?: (typeof WORKFLOW_STATUSES)[number];
  user_id?: string;
  from?: string;
  to?: string;
  min_duration_ms?: number;
  max_duration_ms?: number;
  has_errors?: boolean;
  sort?: string;
}

export function workflowRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig): void {
  app.get<{ Querystring: ListQuery }>(
    '/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Workflow runs, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            workflow_type: text(),
            status: { type: 'string', enum: WORKFLOW_STATUSES },
            user_id: text(),
            from: { ...dateTime, description: 'started at or after' },
            to: { ...dateTime, description: 'started before' },
            min_duration_ms: { type: 'number', minimum: 0, maximum: 1e12 },
            max_duration_ms: { type: 'number', minimum: 0, maximum: 1e12 },
            has_errors: { type: 'boolean' },
            sort: { type: 'string', enum: Object.keys(WORKFLOW_SORTS), default: '-started_at', description: 'order; `-` for descending' },
            ...pageQuery(config),
          },
        },
        response: { 200: pageResponse(workflowSchema), ...commonResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const from = parseTime(q.from, 'from');
      const to = parseTime(q.to, 'to');
      if (from !== undefined && to !== undefined && from > to) throw badRequest('from must not be after to');
      const w = new Where()
        .add('workflow_type = ?', q.workflow_type)
        .add('status = ?', q.status)
        .add('user_id = ?', q.user_id)
        .add('started_at >= ?::timestamptz', from === undefined ? undefined : new Date(from).toISOString())
        .add('started_at < ?::timestamptz', to === undefined ? undefined : new Date(to).toISOString())
        .add('duration_ms >= ?::float8', q.min_duration_ms)
        .add('duration_ms <= ?::float8', q.max_duration_ms);
      if (q.has_errors === true) w.add('error_count > 0');
      if (q.has_errors === false) w.add('error_count = 0');
      const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflow_sessions ${w}`, w.params);
      const data = await db.query(
        `SELECT ${WORKFLOW_COLUMNS} FROM workflow_sessions ${w}
          ORDER BY ${WORKFLOW_SORTS[q.sort ?? '-started_at'] ?? 'started_at DESC'}, workflow_id LIMIT ${w.param(q.limit)} OFFSET ${w.param(q.offset)}`,
        w.params,
      );
      return { data, total: count?.n ?? 0, limit: q.limit, offset: q.offset };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; workflow_type?: string } }>(
    '/workflow-stats',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Runs started in [from, to) (default the last hour) by status, and per workflow type: runs per minute, error rate (failed + timed out), p95 duration',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: dateTime, to: dateTime, workflow_type: text() },
        },
        response: {
          200: obj({
            from: str, to: str,
            by_status: { type: 'object', additionalProperties: { type: 'integer' } },
            by_type: {
              type: 'array',
              items: obj({ workflow_type: str, count: int, failed: int, timed_out: int, error_rate: num, per_minute: num, p95_ms: nnum }),
            },
            types_truncated: bool,
          }),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const to = parseTime(req.query.to, 'to') ?? Date.now();
      const from = parseTime(req.query.from, 'from') ?? to - 3600_000;
      if (from > to) throw badRequest('from must not be after to');
      const stats = await workflowStats(db, { from: new Date(from), to: new Date(to), workflowType: req.query.workflow_type });
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), ...stats };
    },
  );

  app.get<{ Params: { workflowId: string } }>(
    '/workflows/:workflowId',
    {
      schema: {
        tags: ['workflows'],
        summary: 'One workflow run: its spans as a tree, time per layer (self time) and critical path',
        params: { type: 'object', required: ['workflowId'], properties: { workflowId: text() } },
        response: {
          200: obj({ workflow: workflowSchema, ...analysisSchema, errors: { type: 'array', items: obj({}) } }),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const id = req.params.workflowId;
      const [workflow] = await db.query(`SELECT ${WORKFLOW_COLUMNS} FROM workflow_sessions WHERE workflow_id = $1`, [id]);
      if (!workflow) throw notFound('workflow');
      const analysis = await spanAnalysis(db, new Where().add('workflow_id = ?', id), config.FLOWSCOPE_QUERY_MAX_SPANS);
      const errors = await db.query(
        `SELECT id::float8 AS id, trace_id, span_id, layer, component, span_name, severity, error_type, message,
                ${iso('occurred_at')} AS occurred_at, resolved
           FROM error_logs WHERE correlation_id = $1 ORDER BY occurred_at, id LIMIT 1000`,
        [id],
      );
      return { workflow, ...analysis, errors };
    },
  );

  app.get<{ Params: { traceId: string } }>(
    '/traces/:traceId',
    {
      schema: {
        tags: ['traces'],
        summary: 'One trace by id: its spans as a tree, time per layer and critical path',
        params: {
          type: 'object',
          required: ['traceId'],
          properties: { traceId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$' } },
        },
        response: { 200: obj({ trace_id: str, workflow_ids: { type: 'array', items: str }, ...analysisSchema }), ...commonResponses },
      },
    },
    async (req) => {
      const traceId = req.params.traceId.toLowerCase();
      const analysis = await spanAnalysis(db, new Where().add('trace_id = ?', traceId), config.FLOWSCOPE_QUERY_MAX_SPANS);
      if (analysis.span_count === 0) throw notFound('trace');
      const ids = await db.query<{ workflow_id: string }>(
        'SELECT DISTINCT workflow_id FROM trace_steps WHERE trace_id = $1 ORDER BY workflow_id',
        [traceId],
      );
      return { trace_id: traceId, workflow_ids: ids.map((r) => r.workflow_id), ...analysis };
    },
  );
}
