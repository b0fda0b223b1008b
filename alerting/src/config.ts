import type { z } from 'zod';
import { envBool, envInt, envList, envNumber, envString, envUrl, parseConfig } from '@flowscope/common';

/**
 * The alerting worker's configuration fragment. main.ts (and the all-in-one) merges it with the
 * storage and logging fragments and parses the environment once; nothing here reads process.env.
 * Names shared with other processes (REDIS_URL, DEBUGGING_*) keep the same meaning and defaults.
 */
export const alertingConfigShape = {
  /** BullMQ on Redis when set; the in-process scheduler (all-in-one only) when unset. */
  REDIS_URL: envUrl(),
  /** Prefix of Redis channels shared with the other processes (live events), separator included. */
  FLOWSCOPE_REDIS_PREFIX: envString('flowscope:'),
  /** Thresholds of the seeded api-layer p95 latency rule, in ms. */
  DEBUGGING_API_RESPONSE_TIME_WARNING: envNumber(200, 0),
  DEBUGGING_API_RESPONSE_TIME_CRITICAL: envNumber(500, 0),
  /** Thresholds of the seeded database-layer p95 latency rule, in ms. */
  DEBUGGING_DB_QUERY_TIME_WARNING: envNumber(50, 0),
  DEBUGGING_DB_QUERY_TIME_CRITICAL: envNumber(100, 0),
  /** A workflow still in progress this long (ms) after it started is marked timed_out. */
  DEBUGGING_MAX_TRACE_DURATION: envInt(300_000, 1),

  /** SMTP server; unset keeps alert emails in the outbox as 'unsent'. */
  EMAIL_HOST: envString(),
  EMAIL_PORT: envInt(587, 1, 65535),
  /** STARTTLS (required when true, never attempted when false), as Django's EMAIL_USE_TLS. */
  EMAIL_USE_TLS: envBool(false),
  /** Implicit TLS from the first byte (port 465 style), as Django's EMAIL_USE_SSL. */
  FLOWSCOPE_EMAIL_USE_SSL: envBool(false),
  EMAIL_HOST_USER: envString(),
  /** Never logged, never stored. */
  EMAIL_HOST_PASSWORD: envString(),
  FLOWSCOPE_EMAIL_FROM: envString('flowscope <flowscope@localhost>'),
  /** Default recipients (comma-separated); a rule's own recipients replace them. */
  FLOWSCOPE_ALERT_EMAIL_TO: envList([]),
  /** Delivery attempts per email before it is marked failed. */
  FLOWSCOPE_EMAIL_MAX_ATTEMPTS: envInt(10, 1, 100),
  /** First retry delay; each further retry doubles it. */
  FLOWSCOPE_EMAIL_BACKOFF_MS: envInt(5000, 1, 3_600_000),
  /** Base URL of the query API, for links in emails. */
  FLOWSCOPE_PUBLIC_URL: envUrl().transform((v) => (v ?? 'http://localhost:8000').replace(/\/+$/, '')),

  /** How often the evaluation job runs; a rule with a longer eval interval is evaluated on the ticks that cross it. */
  FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: envNumber(15, 0.05, 86_400),
  /** Window of the rules seeded from configuration. */
  FLOWSCOPE_ALERT_WINDOW_SECONDS: envInt(300, 60, 86_400),
  /** A firing alert is re-notified this often while it keeps firing; 0 disables reminders. */
  FLOWSCOPE_ALERT_REMINDER_MINUTES: envNumber(60, 0),
  /** A firing alert resolves only once its value falls this fraction below its lowest threshold. */
  FLOWSCOPE_ALERT_HYSTERESIS: envNumber(0.1, 0, 0.9),
  /** Fewer observations than this in a window count as no data. */
  FLOWSCOPE_ALERT_MIN_SAMPLES: envInt(5, 1),
  /** JSON file of further default rules; the bundled alerting/rules/defaults.json when unset. */
  FLOWSCOPE_ALERT_RULES_FILE: envString(),

  FLOWSCOPE_RETENTION_SPANS_DAYS: envInt(30, 1, 36_500),
  FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS: envInt(7, 1, 36_500),
  /** How often partitions, retention and workflow time-outs are maintained. */
  FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: envNumber(60, 0.05, 86_400),

  /** BullMQ key prefix (one per deployment, or per test). */
  FLOWSCOPE_QUEUE_PREFIX: envString('flowscope'),
  /** BullMQ job lock; a job whose worker died is retried by another worker after about this long. */
  FLOWSCOPE_QUEUE_LOCK_MS: envInt(30_000, 500, 600_000),
  /** Concurrent email deliveries per worker. */
  FLOWSCOPE_EMAIL_CONCURRENCY: envInt(4, 1, 100),

  /** Port of the worker's /health, /ready and /metrics; 0 disables. */
  FLOWSCOPE_ALERTING_METRICS_PORT: envInt(9464, 0, 65535),
};

export type AlertingConfig = z.output<z.ZodObject<typeof alertingConfigShape>>;

/** Parses a partial environment into a full config (tests, all-in-one defaults). */
export function alertingConfig(env: Record<string, string | undefined> = {}): AlertingConfig {
  return parseConfig(alertingConfigShape, env);
}
