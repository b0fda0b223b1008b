/**
 * The three middlewares of the system flowscope replaces (correlation id, workflow tracing,
 * performance monitoring) as one Express middleware or one Fastify plugin:
 *
 * - the correlation id is the request's `X-Correlation-ID` (or the upstream baggage's
 *   `workflow.id`), else a new UUID; it is echoed in the response's `X-Correlation-ID`;
 * - the workflow type is the upstream baggage's `workflow.type`, else the request's
 *   workflow-type header (`X-Workflow-Type`), else the route map's entry for the request;
 * - both go into the request's workflow (baggage for propagation, attributes on every span of
 *   the request, the server span included) and travel on outgoing calls;
 * - timing is the server span's own (the HTTP instrumentation measures every request).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import type { Context, TextMapPropagator } from '@opentelemetry/api';
import { defaultTextMapGetter } from '@opentelemetry/api';
import { CORRELATION_ID_HEADER } from './propagator.ts';
import { getSlot, isValidWorkflowValue, newWorkflowId } from './workflow.ts';
import type { WorkflowSlot } from './workflow.ts';

/**
 * Route map: `'POST /checkout'` (method and path) or `'/search'` (any method) → workflow type.
 * Path segments `:name` match one segment, a final `*` matches the rest. Or a function.
 */
export type RouteMap = Record<string, string> | ((method: string, path: string) => string | undefined);

export interface MiddlewareOptions {
  /** Workflow type per route (see RouteMap). */
  routes?: RouteMap;
  /** Request header naming the workflow type (default `x-workflow-type`); false to ignore headers. */
  workflowTypeHeader?: string | false;
  /** Workflow type of requests no rule names (default: none; the collector then uses the trace's other spans, else `unknown`). */
  defaultWorkflowType?: string;
}

interface CompiledRoute {
  method: string | undefined;
  pattern: RegExp;
  type: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function compileRoutes(routes: RouteMap | undefined): (method: string, path: string) => string | undefined {
  if (routes === undefined) return () => undefined;
  if (typeof routes === 'function') return routes;
  const compiled: CompiledRoute[] = Object.entries(routes).map(([key, type]) => {
    const space = key.indexOf(' ');
    const method = space > 0 ? key.slice(0, space).toUpperCase() : undefined;
    const path = (space > 0 ? key.slice(space + 1) : key).trim();
    const source = path
      .split('/')
      .map((segment, i, all) => {
        if (segment === '*' && i === all.length - 1) return '.*';
        if (segment.startsWith(':')) return '[^/]+';
        return escapeRegExp(segment);
      })
      .join('/');
    return { method, pattern: new RegExp(`^${source}/?$`), type };
  });
  return (method, path) => compiled.find((r) => (r.method === undefined || r.method === method.toUpperCase()) && r.pattern.test(path))?.type;
}

export interface RequestWorkflow {
  /** The correlation id (= workflow id) of the request. */
  id: string;
  type: string | undefined;
  /** The context to run the rest of the request in (has the request's workflow). */
  context: Context;
}

/** Decides the workflow of one request and records it in the request's slot. */
export function requestWorkflow(
  propagator: TextMapPropagator,
  options: MiddlewareOptions,
  match: (method: string, path: string) => string | undefined,
  req: IncomingMessage,
  path: string,
): RequestWorkflow {
  let ctx = context.active();
  let slot: WorkflowSlot | undefined = getSlot(ctx);
  if (!slot) {
    // No HTTP instrumentation extracted this request (it is disabled or another SDK runs it).
    ctx = propagator.extract(ctx, req.headers, defaultTextMapGetter);
    slot = getSlot(ctx) ?? { type: undefined, id: undefined };
  }
  if (slot.id === undefined) {
    const header = req.headers[CORRELATION_ID_HEADER];
    const value = (Array.isArray(header) ? header[0] : header)?.trim();
    slot.id = isValidWorkflowValue(value) ? value : newWorkflowId();
  }
  if (slot.type === undefined) {
    const headerName = options.workflowTypeHeader === undefined ? 'x-workflow-type' : options.workflowTypeHeader;
    const header = headerName ? req.headers[headerName.toLowerCase()] : undefined;
    const value = (Array.isArray(header) ? header[0] : header)?.trim();
    const type = isValidWorkflowValue(value) ? value : (match(req.method ?? 'GET', path) ?? options.defaultWorkflowType);
    if (isValidWorkflowValue(type)) slot.type = type;
  }
  return { id: slot.id, type: slot.type, context: ctx };
}

type Next = (error?: unknown) => void;
export type ExpressMiddleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q >= 0 ? raw.slice(0, q) : raw;
}

export function expressMiddleware(propagator: TextMapPropagator, options: MiddlewareOptions = {}): ExpressMiddleware {
  const match = compileRoutes(options.routes);
  return (req, res, next) => {
    let wf: RequestWorkflow;
    try {
      const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url;
      wf = requestWorkflow(propagator, options, match, req, pathOf(original));
      if (!res.headersSent) res.setHeader('X-Correlation-ID', wf.id);
    } catch {
      // Instrumentation never breaks the request.
      next();
      return;
    }
    context.with(wf.context, () => next());
  };
}

/** What the Fastify plugin needs of Fastify (structural, so Fastify is not a dependency). */
interface FastifyRequestLike {
  raw: IncomingMessage;
  url: string;
  routeOptions?: { url?: string };
}
interface FastifyReplyLike {
  header(name: string, value: string): unknown;
}
interface FastifyLike {
  addHook(
    name: 'onRequest' | 'preHandler',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (error?: Error) => void) => void,
  ): unknown;
}

export type FastifyPlugin = ((instance: FastifyLike, options: MiddlewareOptions, done: (error?: Error) => void) => void) & {
  [key: symbol]: unknown;
};

const WORKFLOW_CONTEXT = Symbol('flowscope.workflowContext');

export function fastifyPlugin(propagator: TextMapPropagator, defaults: MiddlewareOptions = {}): FastifyPlugin {
  const plugin = ((instance: FastifyLike, pluginOptions: MiddlewareOptions, done: (error?: Error) => void) => {
    const options = { ...defaults, ...pluginOptions };
    const match = compileRoutes(options.routes);
    const routeMatch = (method: string, path: string, route: string | undefined): string | undefined =>
      (route !== undefined ? match(method, route) : undefined) ?? match(method, path);
    instance.addHook('onRequest', (request, reply, next) => {
      let wf: RequestWorkflow;
      try {
        wf = requestWorkflow(propagator, options, (m, p) => routeMatch(m, p, request.routeOptions?.url), request.raw, pathOf(request.url));
        reply.header('X-Correlation-ID', wf.id);
        (request as unknown as Record<symbol, Context>)[WORKFLOW_CONTEXT] = wf.context;
      } catch {
        next();
        return;
      }
      context.with(wf.context, () => next());
    });
    // Body parsing resumes in the request stream's context; re-enter ours before the handler.
    instance.addHook('preHandler', (request, _reply, next) => {
      const ctx = (request as unknown as Record<symbol, Context | undefined>)[WORKFLOW_CONTEXT];
      if (ctx) context.with(ctx, () => next());
      else next();
    });
    done();
  }) as FastifyPlugin;
  // Like fastify-plugin: the hooks apply to the whole application, not only to this plugin's scope.
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = '@flowscope/instrumentation';
  return plugin;
}
