import { createHash } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type RouteOptions } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { errors, FlowscopeError, redactUrl, registerOpsRoutes, type ReadinessCheck } from '@flowscope/common';
import { unresolvedErrorCounts, type Database } from '@flowscope/storage';
import type { QueryApiConfig } from './config.ts';
import { LocalEventBus, RedisEventBus, eventsChannel, parseLiveEvent, type EventBus } from './events.ts';
import { authenticate, type Principal, type Role } from './tokens.ts';
import { forbidden, fromStorageError, unauthorized } from './http.ts';
import { workflowRoutes } from './routes/workflows.ts';
import { errorRoutes } from './routes/errors.ts';
import { performanceRoutes } from './routes/performance.ts';
import { alertRoutes } from './routes/alerts.ts';
import { healthRoutes } from './routes/health.ts';
import { systemRoutes, type SystemDeps } from './routes/system.ts';
import { jaegerRoutes } from './routes/jaeger.ts';
import { liveStreamRoutes } from './ws.ts';
import { uiRoutes } from './ui.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The token this request authenticated with (undefined on public routes). */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Served without a token: /health, /ready, /metrics (and /docs when configured). */
    public?: boolean;
    /** Least role the route needs; viewer when absent. */
    role?: Role;
    /** The route also takes the token as ?token= (WebSocket clients in browsers). */
    queryToken?: boolean;
  }
  interface FastifyInstance {
    /** Where live events go; publish on it to reach every client of every replica. */
    liveEvents: EventBus;
  }
}

export interface QueryApiDeps {
  db: Database;
  config: QueryApiConfig;
  logger: Logger;
  /** Rate-limit counters and live events go through Redis when given (REDIS_URL). */
  redis?: Redis;
  /** The in-process bus the all-in-one shares with its collector; built from `redis` otherwise. */
  events?: EventBus;
  /** Shared registry (the all-in-one serves one /metrics); a new one by default. */
  registry?: Registry;
  /** Sees every route as it is registered (tests walk the route table with it). */
  onRoute?: (route: RouteOptions) => void;
  now?: () => number;
  /** The System page's view of the other processes (the all-in-one's collector port, its in-process alerting worker). */
  system?: Omit<SystemDeps, 'registry' | 'checks'>;
  /** The built UI served at `/` (default: the @flowscope/ui package's dist folder). */
  uiDir?: string;
}

export const API_PREFIX = '/api/v1/debugging';
const PUBLIC_PATHS = new Set(['/health', '/ready', '/metrics']);

const bearer = (header: string | undefined): string | undefined => {
  if (!header) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
};

/** The WebSocket subprotocol the live stream answers with (never the one carrying the token). */
export const WS_PROTOCOL = 'flowscope.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'flowscope.token.';

const tokenFromProtocols = (header: string | undefined): string | undefined => {
  if (!header) return undefined;
  for (const p of header.split(',')) {
    const v = p.trim();
    if (v.startsWith(WS_TOKEN_PROTOCOL_PREFIX) && v.length > WS_TOKEN_PROTOCOL_PREFIX.length) return v.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
};

const hasNul = (v: unknown, depth = 0): boolean => {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 32 || typeof v !== 'object' || v === null) return false;
  return Object.entries(v).some(([k, x]) => k.includes('\u0000') || hasNul(x, depth + 1));
};

const hasNonFinite = (v: unknown, depth = 0): boolean => {
  if (typeof v === 'number') return !Number.isFinite(v);
  if (depth > 32 || typeof v !== 'object' || v === null) return false;
  return Object.values(v).some((x) => hasNonFinite(x, depth + 1));
};

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/**
 * Builds the query API without listening: main.ts (and the all-in-one) listen, tests use
 * app.inject(). Closing the app closes what it created (event bus subscription), never the
 * database or Redis connection it was given.
 */
export async function buildQueryApi(deps: QueryApiDeps): Promise<FastifyInstance> {
  const { db, config, redis } = deps;
  const logger = deps.logger.child({ component: 'query-api' });
  const registry = deps.registry ?? new Registry();
  const metrics = {
    requests: new Counter({ name: 'flowscope_query_http_requests_total', help: 'Query API requests by route and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    authFailures: new Counter({ name: 'flowscope_query_auth_failures_total', help: 'Requests refused by authentication or role', labelNames: ['reason'], registers: [registry] }),
    rateLimited: new Counter({ name: 'flowscope_query_rate_limited_total', help: 'Requests answered 429 by the per-token rate limit', registers: [registry] }),
    ws: {
      clients: new Gauge({ name: 'flowscope_query_ws_clients', help: 'Connected live stream clients', registers: [registry] }),
      dropped: new Counter({ name: 'flowscope_query_ws_dropped_total', help: 'Live stream clients disconnected by the server', labelNames: ['reason'], registers: [registry] }),
      sent: new Counter({ name: 'flowscope_query_ws_messages_sent_total', help: 'Messages sent to live stream clients', registers: [registry] }),
    },
  };
  unresolvedErrorsGauge(registry, db, config.FLOWSCOPE_QUERY_HEALTH_CACHE_MS);

  const ownBus = !deps.events;
  const bus: EventBus =
    deps.events ??
    (redis
      ? new RedisEventBus(redis, eventsChannel(config.FLOWSCOPE_REDIS_PREFIX), (err) => logger.warn({ err }, 'live event subscriber error'))
      : new LocalEventBus());

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's own request lines log the URL with its query string (a ?token= in clear): ours
    // below log it redacted.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    routerOptions: { maxParamLength: 1024 },
    requestIdHeader: 'x-request-id',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.decorate('liveEvents', bus);

  app.addHook('onRoute', (route) => {
    const config_ = (route.config ??= {});
    // the UI's page shell and assets carry no data (the pages fetch the API with a token)
    if (PUBLIC_PATHS.has(route.url) || route.url.startsWith('/assets/')) config_.public = true;
    if (config.FLOWSCOPE_QUERY_DOCS_PUBLIC && (route.url === '/docs' || route.url.startsWith('/docs/'))) config_.public = true;
    deps.onRoute?.(route);
  });

  app.setErrorHandler((thrown: FastifyError | FlowscopeError, req, reply) => {
    const err = fromStorageError(thrown, config.FLOWSCOPE_RETRY_AFTER_SECONDS);
    let status: number;
    let code: string;
    let message: string;
    if (err instanceof FlowscopeError) {
      status = err.statusCode;
      code = err.code;
      message = err.expose ? err.message : 'internal error';
      if (err.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.options.retryAfterSeconds));
    } else if (err.validation) {
      status = 400;
      code = 'FS_BAD_REQUEST';
      message = err.message;
    } else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = err.code ?? 'FS_BAD_REQUEST';
      message = err.message;
    } else {
      status = 500;
      code = 'FS_INTERNAL';
      message = 'internal error';
    }
    if (status >= 500) req.log.error({ err }, 'request failed');
    return reply.code(status).send({ statusCode: status, code, error: STATUS_TEXT[status] ?? 'Error', message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ statusCode: 404, code: 'FS_NOT_FOUND', error: 'Not Found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  app.addHook('onResponse', async (req, reply) => {
    // An upgrade refused before the websocket plugin saw it (401/403/429): its socket is not
    // the HTTP server's any more, so nobody else ends it.
    if (req.headers.upgrade && reply.statusCode !== 101) req.raw.socket?.destroy();
    req.log.info(
      { req: { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
    metrics.requests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: reply.statusCode });
  });

  // Rate limit first (cheap, keyed by a hash of the presented token, so a flood of bad tokens
  // never reaches the database), then authentication.
  await app.register(rateLimit, {
    global: true,
    max: config.FLOWSCOPE_RATE_LIMIT_MAX,
    timeWindow: config.FLOWSCOPE_RATE_LIMIT_WINDOW_MS,
    ...(redis ? { redis, nameSpace: `${config.FLOWSCOPE_REDIS_PREFIX}ratelimit:` } : {}),
    skipOnError: true,
    keyGenerator: (req) => {
      const token = bearer(req.headers.authorization) ?? (req.routeOptions.config.queryToken ? (req.query as { token?: string }).token : undefined);
      return token ? `t:${createHash('sha256').update(token).digest('hex').slice(0, 32)}` : `ip:${req.ip}`;
    },
    allowList: (req) => req.routeOptions.config.public === true,
    errorResponseBuilder: (_req, ctx) => {
      metrics.rateLimited.inc();
      return errors.rateLimited(`rate limit of ${ctx.max} requests per ${ctx.after} exceeded, retry later`, Math.max(1, Math.ceil(ctx.ttl / 1000)), ctx.statusCode);
    },
  });

  app.addHook('onRequest', async (req) => {
    // A WebSocket upgrade never reaches onResponse: its line is written here, URL redacted.
    if (req.headers.upgrade) req.log.info({ req: { method: req.method, url: redactUrl(req.url), remoteAddress: req.ip } }, 'websocket upgrade');
    const routeConfig = req.routeOptions.config;
    if (routeConfig.public === true && req.routeOptions.url !== undefined) return;
    let token = bearer(req.headers.authorization);
    if (!token && routeConfig.queryToken) {
      // Browsers cannot set headers on a WebSocket: the token comes as a subprotocol
      // ("flowscope.v1", "flowscope.token.<token>"), or (older clients) as ?token=.
      token = tokenFromProtocols(req.headers['sec-websocket-protocol']);
      const q = (req.query as { token?: unknown }).token;
      if (!token && typeof q === 'string' && q.length > 0) token = q;
    }
    if (!token) {
      metrics.authFailures.inc({ reason: 'missing' });
      throw unauthorized();
    }
    if (token.length > 512) {
      metrics.authFailures.inc({ reason: 'invalid' });
      throw unauthorized('invalid token');
    }
    const principal = await authenticate(db, token, req.log as unknown as Logger);
    if (!principal) {
      metrics.authFailures.inc({ reason: 'invalid' });
      throw unauthorized('invalid or revoked token');
    }
    if (routeConfig.role === 'admin' && principal.role !== 'admin') {
      metrics.authFailures.inc({ reason: 'role' });
      throw forbidden();
    }
    req.principal = principal;
  });
  // PostgreSQL text cannot hold NUL: refuse it up front instead of failing in the query.
  app.addHook('preValidation', async (req) => {
    if (hasNul(req.query) || hasNul(req.params) || hasNul(req.body)) {
      throw errors.badRequest('NUL characters are not allowed in parameters');
    }
  });
  // JSON Schema lets "1e309" through as Infinity; no parameter of this API is infinite.
  app.addHook('preHandler', async (req) => {
    if (hasNonFinite(req.query) || hasNonFinite(req.params) || hasNonFinite(req.body)) {
      throw errors.badRequest('numbers must be finite');
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode === 401) reply.header('www-authenticate', 'Bearer');
    return payload;
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'flowscope query API', version: '1', description: 'Workflow debugging: REST, Jaeger-compatible API and live stream. Every route but /health, /ready and /metrics takes Authorization: Bearer TOKEN.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const closeGraceMs = config.FLOWSCOPE_WS_CLOSE_GRACE_MS;
  await app.register(websocket, {
    // Shutdown: live-stream clients get a close frame (1001); one that has not completed the
    // closing handshake after FLOWSCOPE_WS_CLOSE_GRACE_MS is cut (ws itself would wait 30 s).
    preClose: async function (this: FastifyInstance) {
      this.server.removeAllListeners('upgrade');
      const wss = this.websocketServer;
      const open = [...wss.clients];
      for (const c of open) c.close(1001, 'server shutting down');
      const allClosed = Promise.all(open.map((c) => (c.readyState === c.CLOSED ? undefined : new Promise((r) => c.once('close', r)))));
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([allClosed.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), closeGraceMs)))]);
      clearTimeout(timer);
      if (waited) {
        const stuck = open.filter((c) => c.readyState !== c.CLOSED);
        if (stuck.length > 0) this.log.warn({ clients: stuck.length, graceMs: closeGraceMs }, 'live-stream clients did not close in time: connections cut');
        for (const c of stuck) c.terminate();
      }
      await new Promise<void>((r) => wss.close(() => r()));
    },
    options: {
      maxPayload: 64 * 1024,
      // Answer with flowscope.v1 when offered; the token subprotocol is never echoed back.
      handleProtocols: (protocols: Set<string>) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
    },
  });

  const checks: ReadinessCheck[] = [{ name: 'database', check: () => db.ping() }];
  if (redis) checks.push({ name: 'redis', check: async () => void (await redis.ping()) });
  registerOpsRoutes(app, { registry, checks });

  await app.register(
    async (api) => {
      workflowRoutes(api, db, config);
      errorRoutes(api, db, config);
      performanceRoutes(api, db, config);
      alertRoutes(api, db, config);
      healthRoutes(api, db, config, deps.now);
      systemRoutes(api, config, { registry, checks, ...deps.system });
      api.get(
        '/me',
        {
          schema: {
            tags: ['auth'],
            summary: 'Who the token is: its name and role (the UI shows admin controls by it)',
            response: { 200: { type: 'object', properties: { name: { type: 'string' }, role: { type: 'string' } } } },
          },
        },
        async (req) => ({ name: req.principal?.name, role: req.principal?.role }),
      );
      api.post<{ Body: Record<string, unknown> }>(
        '/events',
        {
          config: { role: 'admin' },
          schema: {
            tags: ['live'],
            summary: 'Publish a live event to every connected client of every replica (admin; for tests of dashboards and pipelines)',
            body: { type: 'object', required: ['type', 'at'], properties: { type: { type: 'string', maxLength: 64 }, at: { type: 'string', maxLength: 64 } } },
            response: { 202: { type: 'object', properties: { published: { type: 'boolean' } } } },
          },
        },
        async (req, reply) => {
          const event = parseLiveEvent(req.body);
          if (!event) throw errors.badRequest('not a workflow.* or alert.* event with its required fields');
          await bus.publish(event);
          return reply.code(202).send({ published: true });
        },
      );
    },
    { prefix: API_PREFIX },
  );
  await app.register(async (j) => jaegerRoutes(j, db, config), { prefix: '/jaeger' });
  if (config.WEBSOCKET_ENABLED) {
    await app.register(async (w) => liveStreamRoutes(w, bus, config, metrics.ws));
  }

  await app.register(async (ui) => uiRoutes(ui, deps.uiDir));

  if (bus instanceof RedisEventBus) {
    app.addHook('onReady', async () => bus.ready());
  }
  app.addHook('onClose', async () => {
    if (ownBus) await bus.close();
  });
  return app;
}

/**
 * `flowscope_errors_unresolved{layer, severity, error_type}`: unresolved errors in the database
 * (the errors dashboard draws them over time). Every replica reports the same numbers (take the
 * max across instances); at most 100 groups, refreshed at most every `cacheMs`.
 */
function unresolvedErrorsGauge(registry: Registry, db: Database, cacheMs: number): void {
  if (registry.getSingleMetric('flowscope_errors_unresolved')) return;
  let cached: { at: number; rows: Awaited<ReturnType<typeof unresolvedErrorCounts>> } | undefined;
  new Gauge({
    name: 'flowscope_errors_unresolved',
    help: 'Unresolved errors by layer, severity and error type (from the database, the same on every replica)',
    labelNames: ['layer', 'severity', 'error_type'],
    registers: [registry],
    async collect() {
      if (!cached || Date.now() - cached.at > cacheMs) {
        try {
          cached = { at: Date.now(), rows: await unresolvedErrorCounts(db, 100) };
        } catch {
          return; // storage down: keep the last values rather than fail the scrape
        }
      }
      this.reset();
      for (const r of cached.rows) this.set({ layer: r.layer, severity: r.severity, error_type: r.error_type }, r.count);
    },
  });
}
