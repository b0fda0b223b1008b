import type { FastifyInstance } from 'fastify';
import { getError, listErrors, setErrorResolved, type Database } from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import {
  bool, commonResponses, dateTime, notFound, nstr, num, obj, pageQuery, pageResponse, parseRange, str, text, type Page,
} from '../http.ts';

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
      const { fromMs, toMs } = parseRange(q);
      const page = await listErrors(
        db,
        {
          layer: q.layer,
          severity: q.severity,
          errorType: q.error_type,
          workflowType: q.workflow_type,
          correlationId: q.correlation_id,
          component: q.component,
          resolved: q.resolved,
          fromMs,
          toMs,
        },
        q,
      );
      return { ...page, limit: q.limit, offset: q.offset };
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
      const row = await getError(db, req.params.id);
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
        const row = await setErrorResolved(db, req.params.id, action === 'resolve' ? { resolved: true, by: who } : { resolved: false });
        if (!row) throw notFound('error');
        req.log.info({ errorId: req.params.id, by: who, action }, 'error resolution changed');
        return row;
      },
    );
  }
}
