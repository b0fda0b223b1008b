import type { z } from 'zod';
import { z as zod } from 'zod';
import { envBool, envInt, envList, envNumber, envString, redisConfigShape, retryAfterConfigShape, thresholdConfigShape, workflowTimeoutConfigShape } from '@flowscope/common';
import { DEFAULT_REDACT_KEYS } from './redact.ts';
import { DEFAULT_VALUE_LIMITS, MAX_INDEXED_CHARS } from './validate.ts';
import { envIngestTokens, MIN_INGEST_TOKEN_CHARS } from './ingest-auth.ts';
import { WRITER_CONCURRENCY_MAX } from './writer.ts';

const MiB = 1024 * 1024;

/** "checkout=1,health=0" → Map; every rate must be within 0..1. */
const envRates = () =>
  zod
    .string()
    .optional()
    .transform((v, ctx) => {
      const rates = new Map<string, number>();
      if (v === undefined || v.trim() === '') return rates;
      for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
        const eq = part.lastIndexOf('=');
        const type = part.slice(0, eq).trim();
        const rate = Number(part.slice(eq + 1));
        if (eq <= 0 || !Number.isFinite(rate) || rate < 0 || rate > 1) {
          ctx.addIssue({ code: 'custom', message: `expected workflowType=rate pairs with rates in 0..1, got "${part}"` });
          return zod.NEVER;
        }
        rates.set(type, rate);
      }
      return rates;
    });

/** A JSON array of regular expression sources, each checked at start-up. */
const envPatterns = () =>
  zod
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return [] as string[];
      let list: unknown;
      try {
        list = JSON.parse(v);
      } catch {
        list = undefined;
      }
      if (!Array.isArray(list) || !list.every((p) => typeof p === 'string' && p.length > 0)) {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON array of regular expressions, e.g. ["order-secret-[0-9]+"]' });
        return zod.NEVER;
      }
      for (const p of list as string[]) {
        try {
          new RegExp(p, 'gi');
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(err as Error).message}` });
          return zod.NEVER;
        }
      }
      return list as string[];
    });

/** The collector's configuration fragment; names are environment variable names. */
export const collectorConfigShape = {
  ...redisConfigShape,
  DEBUGGING_API_RESPONSE_TIME_CRITICAL: thresholdConfigShape.DEBUGGING_API_RESPONSE_TIME_CRITICAL,
  DEBUGGING_DB_QUERY_TIME_CRITICAL: thresholdConfigShape.DEBUGGING_DB_QUERY_TIME_CRITICAL,
  DEBUGGING_ENABLED: envBool(true).describe('Old system\'s master switch: false makes the receiver acknowledge and discard.'),
  DEBUGGING_PERFORMANCE_MONITORING: envBool(true).describe('false: no span metrics (performance_snapshots, debugging_* series).'),
  FLOWSCOPE_BASELINES_ENABLED: envBool(true).describe('Keep per-operation statistics (operation_stats) from every span, the baselines suspects and alert emails compare against.'),
  FLOWSCOPE_BASELINE_MAX_OPERATIONS: envInt(200, 1, 100_000).describe('Distinct operations (normalised span names) counted per service; later ones count as `other`.'),
  FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS: envInt(10_000, 10, 3_600_000).describe('A flush records its per-operation statistics and its performance snapshots as pending rows (one per workflow type); at least every this many ms the collector folds pending rows (its own and those of stopped collectors) into operation_stats, performance_snapshots and performance_rollups. Readers count pending rows too, so answers never wait for a fold: fewer folds make ingest cheaper and those reads longer.'),
  FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS: envInt(20, 0, 1_000_000).describe('Fold as soon as this collector has made this many flushes with pending rows since its last fold; bounds what readers add up at high rates. 0 = by FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS only.'),
  FLOWSCOPE_BASELINES_FOLD_MAX_ROWS: envInt(1000, 1, 1_000_000).describe('Most pending rows (per-operation or snapshot) one fold transaction takes (a fold that takes as many goes on with the rest at once).'),
  DEBUGGING_ERROR_LOGGING: envBool(true).describe('false: error spans are not written to error_logs.'),
  FLOWSCOPE_COLLECTOR_HOST: envString('0.0.0.0').describe('Address the OTLP receivers listen on.'),
  FLOWSCOPE_COLLECTOR_PORT: envInt(4318, 0, 65535).describe('OTLP/HTTP port (POST /v1/traces, /health, /ready, /metrics).'),
  FLOWSCOPE_CORS_ORIGINS: envList([]).describe('Browser origins (comma-separated, e.g. https://shop.example.com; * for any) allowed to POST /v1/traces from a page; none by default.'),
  FLOWSCOPE_MAX_BODY_BYTES: envInt(64 * MiB, 1024, 2 ** 31).describe('Largest request body or gRPC message, compressed or after decompression (OTLP recommends 64 MiB).'),
  FLOWSCOPE_MAX_INFLIGHT_BYTES: envInt(256 * MiB, 1024, 2 ** 40).describe('Body bytes held in memory across all requests at once (the memory limiter).'),
  FLOWSCOPE_MAX_HEAP_MB: envInt(0, 0, 1_000_000).describe('Refuse new requests (503, retryable) while the process heap is above this many MiB; 0 = 80 % of V8\'s heap limit. Decoded spans take several times their wire size, so this guards what FLOWSCOPE_MAX_INFLIGHT_BYTES cannot see.'),
  FLOWSCOPE_MAX_ID_CHARS: envInt(DEFAULT_VALUE_LIMITS.maxIdChars, 16, MAX_INDEXED_CHARS).describe(`Longest workflow.id / workflow.type / correlation id / user.id (span or resource attribute) accepted; a span with a longer one is refused (partial success naming the attribute and the span). At most ${MAX_INDEXED_CHARS}: these values are indexed, and PostgreSQL refuses index rows over 2704 bytes.`),
  FLOWSCOPE_MAX_NAME_CHARS: envInt(DEFAULT_VALUE_LIMITS.maxNameChars, 16, MAX_INDEXED_CHARS).describe(`Longest service.name, span name, scope name, exception.type or error.type stored; longer ones are cut to this length, ending in "…". At most ${MAX_INDEXED_CHARS} (indexed values).`),
  FLOWSCOPE_INGEST_TOKENS: envIngestTokens().describe(`Optional ingest authentication: comma-separated \`name:token\` (or bare \`token\`, at least ${MIN_INGEST_TOKEN_CHARS} characters). When set, OTLP requests without \`Authorization: Bearer <one of them>\` are refused (HTTP 401, gRPC UNAUTHENTICATED) before their body is read. Exporters send it with OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer%20<token>". Logs and metrics show the name, never the token.`),
  FLOWSCOPE_INGEST_RATE_LIMIT: envInt(1000, 0, 10_000_000).describe('With FLOWSCOPE_INGEST_TOKENS: OTLP requests each token may send per FLOWSCOPE_INGEST_RATE_WINDOW_SECONDS, per collector process; past it 429 / RESOURCE_EXHAUSTED with Retry-After (exporters retry). 0 = no limit.'),
  FLOWSCOPE_INGEST_RATE_WINDOW_SECONDS: envInt(1, 1, 86_400).describe('The window of FLOWSCOPE_INGEST_RATE_LIMIT, in seconds.'),
  FLOWSCOPE_WRITER_MAX_BATCH_SPANS: envInt(10_000, 1, 1_000_000).describe('Most spans in one group-commit transaction.'),
  FLOWSCOPE_WRITER_MAX_QUEUE_SPANS: envInt(100_000, 1, 10_000_000).describe('Most spans waiting for the writer; past it requests get 429.'),
  FLOWSCOPE_WRITER_LINGER_MS: envInt(0, 0, 10_000).describe('How long a flush waits for more requests to join (0 = flush when idle).'),
  FLOWSCOPE_WRITER_CONCURRENCY: envInt(2, 1, WRITER_CONCURRENCY_MAX).describe(`Most flush (group-commit) transactions in flight at once; each holds one PostgreSQL connection while it runs, so it must be below FLOWSCOPE_DB_POOL_SIZE (the rest serve folds, probes and reads). 1 = one flush at a time, later requests queue for the next. 2 measured best on a 2-core machine (bench/README.md). At most ${WRITER_CONCURRENCY_MAX}.`),
  ...retryAfterConfigShape,
  FLOWSCOPE_REDACT_KEYS: envList(DEFAULT_REDACT_KEYS).describe('Attribute key fragments whose values are replaced by ***REDACTED*** (comma-separated; replaces the default list).'),
  FLOWSCOPE_REDACT_VALUES: envBool(true).describe('Also scrub secrets inside values, in attributes, event names, status messages and span names: URL user info and query-string values, `password=`-style pairs, Bearer/Basic credentials, JSON Web Tokens, well-known key shapes, and string/number literals in db.statement / db.query.text.'),
  FLOWSCOPE_REDACT_VALUE_PATTERNS: envPatterns().describe('More secrets to scrub from every value: a JSON array of regular expressions (case-insensitive), each match replaced by ***REDACTED***, e.g. `["order-secret-[0-9]+"]`.'),
  DEBUGGING_TRACE_SAMPLING_RATE: envNumber(0.1, 0, 1).describe('Share of ordinary traces kept (errors and slow traces are always kept).'),
  FLOWSCOPE_SAMPLING_RATES: envRates().describe('Per workflow type rates, e.g. "checkout=1,healthcheck=0".'),
  FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: envInt(10_000, 0, 600_000).describe('How long spans of a not-yet-interesting trace wait for an error or slow span.'),
  FLOWSCOPE_SAMPLING_HOLD_MAX_SPANS: envInt(100_000, 0, 10_000_000).describe('Bounds on held spans; past them the oldest traces are let go as sampled out.'),
  FLOWSCOPE_SAMPLING_HOLD_MAX_BYTES: envInt(64 * MiB, 0, 2 ** 40).describe('Bound on the approximate bytes of held spans; past it the oldest held traces are let go.'),
  ...workflowTimeoutConfigShape,
  FLOWSCOPE_METRICS_MAX_WORKFLOW_TYPES: envInt(200, 1, 100_000).describe('Most distinct workflow types (and error types) as Prometheus label values; others become "other".'),
  FLOWSCOPE_TRACE_CACHE_SIZE: envInt(100_000, 0, 10_000_000).describe('Traces whose workflow id/type are remembered for spans arriving in later requests.'),
  FLOWSCOPE_COLLECTOR_GRPC_PORT: envInt(4317, 0, 65535).describe('OTLP/gRPC receiver port (TraceService/Export); 4317 is the OTLP default.'),
  FLOWSCOPE_RECEIPT_TTL_MS: envInt(6 * 3600_000, 60_000).describe('How long request receipts (retry de-duplication of counts) are kept (ms).'),
};

export type CollectorConfig = z.output<z.ZodObject<typeof collectorConfigShape>>;

/** The critical threshold of a layer: database/cache use the query time, the rest the API time. */
export const criticalMsFor = (config: CollectorConfig) => (layer: string) =>
  layer === 'database' || layer === 'cache' ? config.DEBUGGING_DB_QUERY_TIME_CRITICAL : config.DEBUGGING_API_RESPONSE_TIME_CRITICAL;

/**
 * Checks across fragments, for a process's start-up: the writer's flushes each hold a pooled
 * PostgreSQL connection, and at least one more is needed for folds, storage probes and reads
 * (the all-in-one's API shares the pool). PGlite is one serialised connection: no bound there.
 */
export function collectorConfigProblems(config: {
  DATABASE_URL?: string | undefined;
  FLOWSCOPE_DB_POOL_SIZE: number;
  FLOWSCOPE_WRITER_CONCURRENCY: number;
}): string[] {
  if (!config.DATABASE_URL || config.FLOWSCOPE_WRITER_CONCURRENCY < config.FLOWSCOPE_DB_POOL_SIZE) return [];
  return [
    `FLOWSCOPE_WRITER_CONCURRENCY: ${config.FLOWSCOPE_WRITER_CONCURRENCY} flushes at once need at least ${config.FLOWSCOPE_WRITER_CONCURRENCY + 1} PostgreSQL connections (one more for folds, probes and reads), but FLOWSCOPE_DB_POOL_SIZE is ${config.FLOWSCOPE_DB_POOL_SIZE}: raise the pool size or lower the concurrency`,
  ];
}
