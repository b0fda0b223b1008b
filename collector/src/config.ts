import type { z } from 'zod';
import { envBool, envInt, envList, envString } from '@flowscope/common';
import { DEFAULT_REDACT_KEYS } from './redact.ts';

const MiB = 1024 * 1024;

/** The collector's configuration fragment; names are environment variable names. */
export const collectorConfigShape = {
  /** Old system's master switch: false makes the receiver acknowledge and discard. */
  DEBUGGING_ENABLED: envBool(true),
  FLOWSCOPE_COLLECTOR_HOST: envString('0.0.0.0'),
  FLOWSCOPE_COLLECTOR_PORT: envInt(4318, 0, 65535),
  /** Largest request body, compressed or after decompression (OTLP recommends 64 MiB). */
  FLOWSCOPE_MAX_BODY_BYTES: envInt(64 * MiB, 1024, 2 ** 31),
  /** Body bytes held in memory across all requests at once (the memory limiter). */
  FLOWSCOPE_MAX_INFLIGHT_BYTES: envInt(256 * MiB, 1024, 2 ** 40),
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
};

export type CollectorConfig = z.output<z.ZodObject<typeof collectorConfigShape>>;
