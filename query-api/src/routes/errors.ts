import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import {
  Where, badRequest, bool, commonResponses, dateTime, iso, notFound, nstr, num, obj, pageQuery, pageResponse, parseTime,
  str, text, type Page,
} from '../http.ts';

const ERROR_COLUMNS = `id::float8 AS id, trace_id, span_id, seq, correlation_id, workflow_type, layer, component, span_name,
  severity, error_type, message, stack, ${iso('occurred_at')} AS occurred_at, attributes, resolved, resolved_by,
  ${iso('resolved_at')} AS resolved_at`;

export const errorSchema = obj({
  id: num, trace_id: str, span_id: str, correlation_id: str, workflow_type: str, layer: str, component: str, span_name: str,
  severity: str, error_type: str, message: str, stack: nstr, occurred_at: str, resolved: bool, resolved_by: nstr, resolved_at: nstr,
});

interface ErrorQuery extends Page {
  layer?: string;
  severity?: string;
  error_type?: string;
  workflow_type?: string;
  correlation_id?: string;
  component?: string;
  resolved?: boolean;
  from?: string;
  to?: string;
}

export function errorRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig): void {
  app.get<{ Querystring: ErrorQuery }>(
    '/errors',
    {
      schema: {
        tags: ['errors'],
        summary: 'Errors (error spans and exception events), newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            layer: text(64),
            severity: text(64),
            error_type: text(),
            workflow_type: text(),
            correlation_id: text(),
            component: text(),
            resolved: { type: 'boolean' },
            from: dateTime,
            to: dateTime,
            ...pageQuery(config),
          },
        },
        response: { 200: pageResponse(errorSchema), ...commonResponses },
      },
    },
    async (req) => {
      const q = req.query;
      const from = parseTime(q.from, 'from');
      const to = parseTime(q.to, 'to');
      if (from !== undefined && to !== undefined && from > to) throw badRequest('from must not be after to');
      const w = new Where()
        .add('layer = ?', q.layer)
        .add('severity = ?', q.severity)
        .add('error_type = ?', q.error_type)
        .add('workflow_type = ?', q.workflow_type)
        .add('correlation_id = ?', q.correlation_id)
        .add('component = ?', q.component)
        .add('resolved = ?', q.resolved)
        .add('occurred_at >= ?::timestamptz', from === undefined ? undefined : new Date(from).toISOString())
        .add('occurred_at < ?::timestamptz', to === undefined ? undefined : new Date(to).toISOString());
      const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM error_logs ${w}`, w.params);
      const data = await db.query(
        `SELECT ${ERROR_COLUMNS} FROM error_logs ${w} ORDER BY occurred_at DESC, id DESC
          LIMIT ${w.param(q.limit)} OFFSET ${w.param(q.offset)}`,
        w.params,
      );
      return { data, total: count?.n ?? 0, limit: q.limit, offset: q.offset };
    },
  );

  const idParams = {
    type: 'object',
    required: ['id'],
    properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  } as const;

  app.get<{ Params: { id: number } }>(
    '/errors/:id',
    { schema: { tags: ['errors'], summary: 'One error', params: idParams, response: { 200: errorSchema, ...commonResponses } } },
    async (req) => {
      const [row] = await db.query(`SELECT ${ERROR_COLUMNS} FROM error_logs WHERE id = $1`, [req.params.id]);
      if (!row) throw notFound('error');
      return row;
    },
  );

  for (const action of ['resolve', 'unresolve'] as const) {
    app.post<{ Params: { id: number } }>(
      `/errors/:id/${action}`,
      {
        config: { role: 'admin' },
        schema: {
          tags: ['errors'],
          summary: action === 'resolve' ? 'Mark an error resolved (admin); records who and when' : 'Mark an error unresolved again (admin)',
          params: idParams,
          response: { 200: errorSchema, ...commonResponses },
        },
      },
      async (req) => {
        const who = req.principal?.name ?? null;
        const [row] =
          action === 'resolve'
            ? await db.query(
                `UPDATE error_logs SET resolved = true, resolved_by = $2, resolved_at = now() WHERE id = $1 RETURNING ${ERROR_COLUMNS}`,
                [req.params.id, who],
              )
            : await db.query(
                `UPDATE error_logs SET resolved = false, resolved_by = NULL, resolved_at = NULL WHERE id = $1 RETURNING ${ERROR_COLUMNS}`,
                [req.params.id],
              );
        if (!row) throw notFound('error');
        req.log.info({ errorId: req.params.id, by: who, action }, 'error resolution changed');
        return row;
      },
    );
  }
}
