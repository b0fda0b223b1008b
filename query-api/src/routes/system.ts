import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from '@flowscope/common';
import type { QueryApiConfig } from '../config.ts';
import { bool, commonResponses, int, nstr, num, obj, str } from '../http.ts';
import { probeRemote, probeSelf, type Check, type ComponentState } from '../system.ts';

export interface SystemDeps {
  registry: Registry;
  checks: ReadinessCheck[];
  /** The collector's base URL when it is not FLOWSCOPE_COLLECTOR_URL (the all-in-one knows its port once listening). */
  collectorUrl?: () => string | undefined;
  /** The alerting worker runs in this process and shares its registry (the all-in-one). */
  alertingInProcess?: boolean;
}

const checkSchema = { anyOf: [obj({ ok: bool, status: { type: ['integer', 'null'] }, detail: str }, ['ok', 'status', 'detail']), { type: 'null' }] };
const sampleSchema = obj({ name: str, labels: { type: 'object', additionalProperties: { type: 'string' } }, value: num }, ['name', 'labels', 'value']);
const componentSchema = obj(
  {
    name: { type: 'string', enum: ['query-api', 'collector', 'alerting'] },
    where: { type: 'string', enum: ['this process', 'remote', 'not configured'] },
    url: nstr,
    health: checkSchema,
    ready: checkSchema,
    samples: { type: 'array', items: sampleSchema },
    error: nstr,
  },
  ['name', 'where', 'url', 'health', 'ready', 'samples', 'error'],
);

/**
 * GET /system: each flowscope process's health, readiness and flowscope_* metrics (spans
 * received, stored, sampled out, refused; queue depths; live-stream clients), read
 * server-side so a browser needs to reach only the query API.
 */
export function systemRoutes(app: FastifyInstance, config: QueryApiConfig, deps: SystemDeps): void {
  const limits = { timeoutMs: config.FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS, maxBytes: config.FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES };
  const ready = async (): Promise<Check> => {
    for (const c of deps.checks) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([c.check(), new Promise((_r, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${limits.timeoutMs} ms`)), limits.timeoutMs)))]);
      } catch (err) {
        return { ok: false, status: 503, detail: `not_ready: ${c.name}: ${(err as Error).message}` };
      } finally {
        clearTimeout(timer);
      }
    }
    return { ok: true, status: 200, detail: `ready (${deps.checks.map((c) => c.name).join(', ')})` };
  };
  const isAlerting = (s: { name: string }) => s.name.startsWith('flowscope_alert');

  app.get(
    '/system',
    {
      schema: {
        tags: ['system'],
        summary: 'Health, readiness and flowscope_* metrics of the query API, the collector (FLOWSCOPE_COLLECTOR_URL) and the alerting worker (FLOWSCOPE_ALERTING_URL), read server-side',
        response: {
          200: obj({ generated_at: str, probe_timeout_ms: int, components: { type: 'array', items: componentSchema } }, ['generated_at', 'probe_timeout_ms', 'components']),
          ...commonResponses,
        },
      },
    },
    async () => {
      const components: ComponentState[] = await Promise.all([
        probeSelf('query-api', deps.registry, ready, deps.alertingInProcess ? (s) => !isAlerting(s) : undefined),
        probeRemote('collector', config.FLOWSCOPE_COLLECTOR_URL ?? deps.collectorUrl?.(), limits),
        deps.alertingInProcess ? probeSelf('alerting', deps.registry, ready, isAlerting) : probeRemote('alerting', config.FLOWSCOPE_ALERTING_URL, limits),
      ]);
      return { generated_at: new Date().toISOString(), probe_timeout_ms: limits.timeoutMs, components };
    },
  );
}
