import type { FastifyInstance } from 'fastify';
import {
  WORKFLOW_SORTS, WORKFLOW_STATUSES, errorsOfWorkflow, workflowStats, getWorkflow, listWorkflows, normalizeOperation, readSpansForAnalysis,
  spansOf, workflowIdsOfTrace, type Database, type SpanList, type SpanRow,
} from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import { buildTree, criticalPath, layerBreakdown, walk, type SpanNode } from '../analysis.ts';
import { Baselines } from '../baselines.ts';
import { findSuspects, type Suspect } from '../suspects.ts';
import {
  bool, commonResponses, dateTime, int, nnum, notFound, nstr, num, obj, pageQuery, pageResponse, parseRange, parseWindow, str, text, type Page,
} from '../http.ts';

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

export interface AnalysisContext {
  baselines: Baselines;
  config: Pick<QueryApiConfig, 'FLOWSCOPE_SUSPECTS_MAX' | 'FLOWSCOPE_CRITICAL_PATH_TOLERANCE_MS'>;
}

/**
 * Shapes loaded spans as a tree with self times, per-layer time, critical path and ranked
 * suspects (against the per-operation baselines around the spans' time).
 */
export async function spanAnalysis({ spans: rows, truncated }: SpanList, ctx: AnalysisContext) {
  const roots = buildTree(rows);
  const shape = (n: SpanNode<SpanRow>): Record<string, unknown> => {
    const { start_us: _s, end_us: _e, ...span } = n.span;
    return { ...span, self_ms: n.self_us / 1000, children: n.children.map(shape) };
  };
  let count = 0;
  walk(roots, () => count++);
  const toleranceUs = ctx.config.FLOWSCOPE_CRITICAL_PATH_TOLERANCE_MS * 1000;
  const path = criticalPath(roots, toleranceUs);
  const lookup = await ctx.baselines.lookup(
    [...new Set(rows.map((r) => r.workflow_type))],
    rows.length > 0 ? rows.reduce((m, r) => Math.min(m, r.start_us), Infinity) / 1000 : Date.now(),
  );
  const suspects = findSuspects(roots, path, lookup, { max: ctx.config.FLOWSCOPE_SUSPECTS_MAX, toleranceUs });
  return {
    span_count: count,
    suspects,
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

export const suspectSchema = obj({
  span_id: str, trace_id: str, layer: str, component: str, operation: str,
  reason: { type: 'string', enum: ['error', 'timeout', 'slow'] }, score: num, summary: str,
  duration_ms: num, self_ms: num, baseline_p50_ms: nnum, baseline_p95_ms: nnum, ratio: nnum, excess_ms: nnum,
  on_critical_path: bool, error_type: nstr, error_message: nstr, downstream: nstr,
});

export const analysisSchema = {
  span_count: int,
  suspects: { type: 'array', items: suspectSchema },
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

/**
 * `top_suspect` of each listed workflow that failed, timed out or was slow (a root span over
 * its operation's baseline p95), bounded: at most FLOWSCOPE_TOP_SUSPECT_MAX_WORKFLOWS stored
 * workflows per page, each with at most FLOWSCOPE_TOP_SUSPECT_MAX_SPANS spans; others get null.
 */
async function topSuspects(
  db: Database,
  rows: readonly { workflow_id: string; status: string; stored: boolean }[],
  ctx: AnalysisContext,
  config: QueryApiConfig,
): Promise<Map<string, Suspect>> {
  const out = new Map<string, Suspect>();
  const ids = rows
    .filter((r) => r.stored && r.status !== 'in_progress')
    .slice(0, config.FLOWSCOPE_TOP_SUSPECT_MAX_WORKFLOWS)
    .map((r) => r.workflow_id);
  const spans = await readSpansForAnalysis(db, ids, config.FLOWSCOPE_TOP_SUSPECT_MAX_SPANS);
  const toleranceUs = config.FLOWSCOPE_CRITICAL_PATH_TOLERANCE_MS * 1000;
  for (const r of rows) {
    const list = spans.get(r.workflow_id);
    if (!list) continue;
    const roots = buildTree(list);
    const lookup = await ctx.baselines.lookup([...new Set(list.map((s) => s.workflow_type))], list[0]!.start_us / 1000);
    if (r.status === 'completed') {
      // Slow: a root ran over its own operation's p95.
      const slow = roots.some((n) => {
        const b = lookup(n.span.workflow_type, n.span.layer, n.span.component, normalizeOperation(n.span.name));
        return b !== undefined && (n.span.end_us - n.span.start_us) / 1000 > b.p95_ms;
      });
      if (!slow) continue;
    }
    const [top] = findSuspects(roots, criticalPath(roots, toleranceUs), lookup, { max: 1, toleranceUs });
    if (top) out.set(r.workflow_id, top);
  }
  return out;
}

export function workflowRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig): void {
  const ctx: AnalysisContext = {
    baselines: new Baselines(db, config.FLOWSCOPE_BASELINE_WINDOW_HOURS, config.FLOWSCOPE_BASELINE_CACHE_MS),
    config,
  };
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
        response: {
          200: pageResponse(obj({ ...workflowSchema.properties, top_suspect: { anyOf: [suspectSchema, { type: 'null' }] } })),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const { fromMs, toMs } = parseRange(q);
      const page = await listWorkflows(
        db,
        {
          workflowType: q.workflow_type,
          status: q.status,
          userId: q.user_id,
          fromMs,
          toMs,
          minDurationMs: q.min_duration_ms,
          maxDurationMs: q.max_duration_ms,
          hasErrors: q.has_errors,
        },
        q,
        q.sort,
      );
      const tops = await topSuspects(db, page.data, ctx, config);
      const data = page.data.map((r) => ({ ...r, top_suspect: tops.get(r.workflow_id) ?? null }));
      return { ...page, data, limit: q.limit, offset: q.offset };
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
      const { fromMs, toMs } = parseWindow(req.query, 3_600_000);
      const stats = await workflowStats(db, { from: new Date(fromMs), to: new Date(toMs), workflowType: req.query.workflow_type });
      return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), ...stats };
    },
  );

  app.get<{ Params: { workflowId: string } }>(
    '/workflows/:workflowId',
    {
      schema: {
        tags: ['workflows'],
        summary: 'One workflow run: its spans as a tree, time per layer (self time), critical path and ranked suspects',
        params: { type: 'object', required: ['workflowId'], properties: { workflowId: text() } },
        response: {
          200: obj({ workflow: workflowSchema, ...analysisSchema, errors: { type: 'array', items: obj({}) } }),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const id = req.params.workflowId;
      const workflow = await getWorkflow(db, id);
      if (!workflow) throw notFound('workflow');
      const analysis = await spanAnalysis(await spansOf(db, { workflowId: id }, config.FLOWSCOPE_QUERY_MAX_SPANS), ctx);
      const errors = await errorsOfWorkflow(db, id);
      return { workflow, ...analysis, errors };
    },
  );

  app.get<{ Params: { traceId: string } }>(
    '/traces/:traceId',
    {
      schema: {
        tags: ['traces'],
        summary: 'One trace by id: its spans as a tree, time per layer, critical path and ranked suspects',
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
      const list = await spansOf(db, { traceId }, config.FLOWSCOPE_QUERY_MAX_SPANS);
      const analysis = await spanAnalysis(list, ctx);
      if (analysis.span_count === 0) throw notFound('trace');
      // All the trace's spans are at hand unless truncated: no second query for its workflows.
      const workflowIds = list.truncated ? await workflowIdsOfTrace(db, traceId) : [...new Set(list.spans.map((s) => s.workflow_id))].sort();
      return { trace_id: traceId, workflow_ids: workflowIds, ...analysis };
    },
  );
}
