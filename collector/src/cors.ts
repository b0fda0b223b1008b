import type { FastifyInstance } from 'fastify';

/**
 * CORS for browser exporters (`@flowscope/instrumentation/web`, any OpenTelemetry web SDK) on
 * POST /v1/traces only, for the origins listed in FLOWSCOPE_CORS_ORIGINS (none by default: no
 * CORS headers at all, so browsers on other origins are refused by the browser itself). `*`
 * allows every origin. A preflight (OPTIONS with Access-Control-Request-Method) from a listed
 * origin gets 204 with the allowed method and headers; from another origin 403 without CORS
 * headers. Non-browser senders (no Origin header) are not affected.
 */
export const CORS_ALLOWED_HEADERS = ['content-type', 'content-encoding', 'traceparent', 'tracestate', 'baggage', 'x-correlation-id'];
export const CORS_MAX_AGE_SECONDS = 600;

export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, '')));
  const isAllowed = (origin: string | undefined): origin is string => origin !== undefined && (any || allowed.has(origin));

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.split('?')[0] !== '/v1/traces') return;
    const origin = req.headers.origin;
    if (origin === undefined) return;
    if (isAllowed(origin)) {
      reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    }
  });

  app.options('/v1/traces', async (req, reply) => {
    const origin = req.headers.origin;
    if (!isAllowed(origin)) {
      return reply.code(403).send({ code: 7, message: `origin ${origin ?? '(none)'} is not in FLOWSCOPE_CORS_ORIGINS` });
    }
    return reply
      .code(204)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '))
      .header('access-control-max-age', String(CORS_MAX_AGE_SECONDS))
      .send();
  });
}
