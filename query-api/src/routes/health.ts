import type { FastifyInstance } from 'fastify';
import { healthCounts, type Database } from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import { commonResponses, int, num, obj, str } from '../http.ts';

export interface SystemHealth {
  status: 'ok' | 'degraded';
  generated_at: string;
  cache_ttl_ms: number;
  workflows: { active: number; active_by_type: Record<string, number>; failed_last_hour: number; timed_out_last_hour: number };
  errors: { unresolved: number };
  ingest: { spans_last_5m: number; spans_per_second: number; errors_last_5m: number };
  alerts: { firing: number; firing_warning: number; firing_critical: number; rules_enabled: number };
}

/**
 * A summary for dashboards and on-call: counts from the partial indexes (in-progress
 * workflows, unresolved errors), ingest rate from the span snapshots (every span, sampled
 * or not). Computed at most once per FLOWSCOPE_QUERY_HEALTH_CACHE_MS per replica; concurrent
 * requests share one computation.
 */
export function healthRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig, now: () => number = Date.now): void {
  let cached: { at: number; value: Promise<SystemHealth> } | undefined;
  const compute = async (): Promise<SystemHealth> => {
    const c = await healthCounts(db);
    const spans = c.spansLast5m;
    return {
      status: c.alertsFiringCritical > 0 ? 'degraded' : 'ok',
      generated_at: new Date(now()).toISOString(),
      cache_ttl_ms: config.FLOWSCOPE_QUERY_HEALTH_CACHE_MS,
      workflows: {
        active: c.activeWorkflows,
        active_by_type: Object.fromEntries(c.activeByType.map((r) => [r.workflow_type, r.n])),
        failed_last_hour: c.failedLastHour,
        timed_out_last_hour: c.timedOutLastHour,
      },
      errors: { unresolved: c.unresolvedErrors },
      // the current minute is partial: 5 full minutes + the partial one, averaged over what elapsed
      ingest: {
        spans_last_5m: spans,
        spans_per_second: spans / (300 + (now() % 60_000) / 1000),
        errors_last_5m: c.errorsLast5m,
      },
      alerts: { firing: c.alertsFiring, firing_warning: c.alertsFiringWarning, firing_critical: c.alertsFiringCritical, rules_enabled: c.rulesEnabled },
    };
  };

  app.get(
    '/health',
    {
      schema: {
        tags: ['system'],
        summary: 'System health: active workflows, unresolved errors, ingest rate, alert states (cached briefly)',
        response: {
          200: obj({
            status: str, generated_at: str, cache_ttl_ms: int,
            workflows: obj({ active: int, active_by_type: { type: 'object', additionalProperties: { type: 'integer' } }, failed_last_hour: int, timed_out_last_hour: int }),
            errors: obj({ unresolved: int }),
            ingest: obj({ spans_last_5m: num, spans_per_second: num, errors_last_5m: num }),
            alerts: obj({ firing: int, firing_warning: int, firing_critical: int, rules_enabled: int }),
          }),
          ...commonResponses,
        },
      },
    },
    async (_req, reply) => {
      const t = now();
      if (!cached || t - cached.at >= config.FLOWSCOPE_QUERY_HEALTH_CACHE_MS) {
        const value = compute();
        cached = { at: t, value };
        value.catch(() => {
          if (cached?.value === value) cached = undefined;
        });
      }
      const value = await cached.value;
      reply.header('cache-control', `max-age=${Math.floor(config.FLOWSCOPE_QUERY_HEALTH_CACHE_MS / 1000)}`);
      return value;
    },
  );
}
