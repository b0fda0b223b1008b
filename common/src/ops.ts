import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check(): Promise<void>;
}

/**
 * GET /health (liveness), GET /ready (readiness: every check answers) and GET /metrics
 * (Prometheus text). These three routes never need a token.
 */
export function registerOpsRoutes(
  app: FastifyInstance,
  options: { registry: Registry; checks: ReadinessCheck[]; live?: () => string | undefined; timeoutMs?: number },
): void {
  const timeoutMs = options.timeoutMs ?? 2000;
  app.get('/health', { config: { public: true } }, async (_req, reply) => {
    const problem = options.live?.();
    if (problem) return reply.code(503).send({ status: 'unhealthy', error: problem });
    return { status: 'healthy' };
  });
  app.get('/ready', { config: { public: true } }, async (_req, reply) => {
    for (const c of options.checks) {
      try {
        await withDeadline(c.check(), timeoutMs);
      } catch (err) {
        return reply.code(503).send({ status: 'not_ready', error: `${c.name}: ${(err as Error).message}` });
      }
    }
    return { status: 'ready' };
  });
  app.get('/metrics', { config: { public: true } }, async (_req, reply) => {
    reply.header('content-type', options.registry.contentType);
    return options.registry.metrics();
  });
}

/** `p`, or a rejection with `message` when it has not settled within `ms` (the timer never holds the process open). */
export async function withDeadline<T>(p: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
