import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
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
    const [active, byType, failed, unresolved, ingest, alerts] = await Promise.all([
      db.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflow_sessions WHERE status = 'in_progress'`),
      db.query<{ workflow_type: string; n: number }>(
        `SELECT workflow_type, count(*)::int AS n FROM workflow_sessions WHERE status = 'in_progress' GROUP BY 1 ORDER BY 1 LIMIT 1000`,
      ),
      db.query<{ failed: number; timed_out: number }>(
        `SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*) FILTER (WHERE status = 'timed_out')::int AS timed_out
           FROM workflow_sessions WHERE started_at >= now() - interval '1 hour'`,
      ),
      db.query<{ n: number }>(`SELECT count(*)::int AS n FROM error_logs WHERE resolved = false`),
      db.query<{ n: number; e: number }>(
        `SELECT coalesce(sum(count), 0)::float8 AS n, coalesce(sum(error_count), 0)::float8 AS e FROM performance_snapshots
          WHERE metric = 'duration_ms' AND bucket_start >= date_trunc('minute', now()) - interval '5 minutes'`,
      ),
      db.query<{ firing: number; warning: number; critical: number; rules: number }>(
        `SELECT count(*) FILTER (WHERE state = 'firing')::int AS firing,
                count(*) FILTER (WHERE state = 'firing' AND severity = 'warning')::int AS warning,
                count(*) FILTER (WHERE state = 'firing' AND severity = 'critical')::int AS critical,
                (SELECT count(*)::int FROM alert_rules WHERE enabled) AS rules
           FROM alerts WHERE state = 'firing'`,
      ),
    ]);
    const a = alerts[0];
    const spans = Number(ingest[0]?.n ?? 0);
    return {
      status: (a?.critical ?? 0) > 0 ? 'degraded' : 'ok',
      generated_at: new Date(now()).toISOString(),
      cache_ttl_ms: config.FLOWSCOPE_QUERY_HEALTH_CACHE_MS,
      workflows: {
        active: active[0]?.n ?? 0,
        active_by_type: Object.fromEntries(byType.map((r) => [r.workflow_type, r.n])),
        failed_last_hour: failed[0]?.failed ?? 0,
        timed_out_last_hour: failed[0]?.timed_out ?? 0,
      },
      errors: { unresolved: unresolved[0]?.n ?? 0 },
      // the current minute is partial: 5 full minutes + the partial one, averaged over what elapsed
      ingest: {
        spans_last_5m: spans,
        spans_per_second: spans / (300 + (now() % 60_000) / 1000),
        errors_last_5m: Number(ingest[0]?.e ?? 0),
      },
      alerts: { firing: a?.firing ?? 0, firing_warning: a?.warning ?? 0, firing_critical: a?.critical ?? 0, rules_enabled: a?.rules ?? 0 },
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
