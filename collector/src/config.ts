import type { z } from 'zod';
import { z as zod } from 'zod';
import { envBool, envInt, envList, envNumber, envString, envUrl } from '@flowscope/common';
import { DEFAULT_REDACT_KEYS } from './redact.ts';

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

/** The collector's configuration fragment; names are environment variable names. */
export const collectorConfigShape = {
  /** Old system's master switch: false makes the receiver acknowledge and discard. */
  DEBUGGING_ENABLED: envBool(true),
  /** false: no span metrics (performance_snapshots, debugging_* series). */
  DEBUGGING_PERFORMANCE_MONITORING: envBool(true),
  /** false: error spans are not written to error_logs. */
  DEBUGGING_ERROR_LOGGING: envBool(true),
  FLOWSCOPE_COLLECTOR_HOST: envString('0.0.0.0'),
  FLOWSCOPE_COLLECTOR_PORT: envInt(4318, 0, 65535),
  /** Largest request body or gRPC message, compressed or after decompression (OTLP recommends 64 MiB). */
  FLOWSCOPE_MAX_BODY_BYTES: envInt(64 * MiB, 1024, 2 ** 31),
  /** Body bytes held in memory across all requests at once (the memory limiter). */
  FLOWSCOPE_MAX_INFLIGHT_BYTES: envInt(256 * MiB, 1024, 2 ** 40),
  /**
   * Refuse new requests (503, retryable) while the process heap is above this many MiB;
   * 0 = 80 % of V8's heap limit. Decoded spans take several times their wire size, so this
   * guards what FLOWSCOPE_MAX_INFLIGHT_BYTES cannot see.
   */
  FLOWSCOPE_MAX_HEAP_MB: envInt(0, 0, 1_000_000),
  /** Most spans in one group-commit transaction. */
  FLOWSCOPE_WRITER_MAX_BATCH_SPANS: envInt(10_000, 1, 1_000_000),
  /** Most spans waiting for the writer; past it requests get 429. */
  FLOWSCOPE_WRITER_MAX_QUEUE_SPANS: envInt(100_000, 1, 10_000_000),
  /** How long a flush waits for more requests to join (0 = flush when idle). */
  FLOWSCOPE_WRITER_LINGER_MS: envInt(0, 0, 10_000),
  /** Retry-After on 429/503, and the storage probe interval while it is down. */
  FLOWSCOPE_RETRY_AFTER_SECONDS: envInt(2, 1, 3600),
  /** Attribute key fragments whose values are replaced by ***REDACTED***. */
  FLOWSCOPE_REDACT_KEYS: envList(DEFAULT_REDACT_KEYS),
  /** Share of ordinary traces kept (errors and slow traces are always kept). */
  DEBUGGING_TRACE_SAMPLING_RATE: envNumber(0.1, 0, 1),
  /** Per workflow type rates, e.g. "checkout=1,healthcheck=0". */
  FLOWSCOPE_SAMPLING_RATES: envRates(),
  /** How long spans of a not-yet-interesting trace wait for an error or slow span. */
  FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: envInt(10_000, 0, 600_000),
  /** Bounds on held spans; past them the oldest traces are let go as sampled out. */
  FLOWSCOPE_SAMPLING_HOLD_MAX_SPANS: envInt(100_000, 0, 10_000_000),
  FLOWSCOPE_SAMPLING_HOLD_MAX_BYTES: envInt(64 * MiB, 0, 2 ** 40),
  /** Critical thresholds (ms): a span over its layer's makes the whole trace kept. */
  DEBUGGING_API_RESPONSE_TIME_CRITICAL: envNumber(500, 0),
  DEBUGGING_DB_QUERY_TIME_CRITICAL: envNumber(100, 0),
  /** A workflow still in progress this long after its start is marked timed out (ms). */
  DEBUGGING_MAX_TRACE_DURATION: envInt(300_000, 1000),
  /** Most distinct workflow types (and error types) as Prometheus label values; others become "other". */
  FLOWSCOPE_METRICS_MAX_WORKFLOW_TYPES: envInt(200, 1, 100_000),
  /** Traces whose workflow id/type are remembered for spans arriving in later requests. */
  FLOWSCOPE_TRACE_CACHE_SIZE: envInt(100_000, 0, 10_000_000),
  /** OTLP/gRPC receiver port (TraceService/Export); 4317 is the OTLP default. */
  FLOWSCOPE_COLLECTOR_GRPC_PORT: envInt(4317, 0, 65535),
  /** Redis for sharing sampling decisions between replicas. */
  REDIS_URL: envUrl(),
  /** Prefix of Redis keys and channels, separator included (several installs can share one Redis). */
  FLOWSCOPE_REDIS_PREFIX: envString('flowscope:'),
  /** How long request receipts (retry de-duplication of counts) are kept (ms). */
  FLOWSCOPE_RECEIPT_TTL_MS: envInt(6 * 3600_000, 60_000),
};

export type CollectorConfig = z.output<z.ZodObject<typeof collectorConfigShape>>;

/** The critical threshold of a layer: database/cache use the query time, the rest the API time. */
export const criticalMsFor = (config: CollectorConfig) => (layer: string) =>
  layer === 'database' || layer === 'cache' ? config.DEBUGGING_DB_QUERY_TIME_CRITICAL : config.DEBUGGING_API_RESPONSE_TIME_CRITICAL;
