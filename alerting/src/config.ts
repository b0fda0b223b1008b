import type { z } from 'zod';
import { sharedConfigShape, workflowTimeoutConfigShape, envBool, envInt, envList, envNumber, envString, envUrl, parseConfig } from '@flowscope/common';

/**
 * The alerting worker's configuration fragment. main.ts (and the all-in-one) merges it with the
 * storage and logging fragments and parses the environment once; nothing here reads process.env.
 * Names shared with other processes (REDIS_URL, DEBUGGING_*) keep the same meaning and defaults.
 */
export const alertingConfigShape = {
  ...sharedConfigShape,
  ...workflowTimeoutConfigShape,

  EMAIL_HOST: envString().describe('SMTP server; unset keeps alert emails in the outbox as \'unsent\'.'),
  EMAIL_PORT: envInt(587, 1, 65535).describe('SMTP port.'),
  EMAIL_USE_TLS: envBool(false).describe('STARTTLS (required when true, never attempted when false), as Django\'s EMAIL_USE_TLS.'),
  FLOWSCOPE_EMAIL_USE_SSL: envBool(false).describe('Implicit TLS from the first byte (port 465 style), as Django\'s EMAIL_USE_SSL.'),
  EMAIL_HOST_USER: envString().describe('SMTP user name.'),
  EMAIL_HOST_PASSWORD: envString().describe('Never logged, never stored.'),
  FLOWSCOPE_EMAIL_FROM: envString('flowscope <flowscope@localhost>').describe('From address of alert emails.'),
  FLOWSCOPE_ALERT_EMAIL_TO: envList([]).describe('Default recipients (comma-separated); a rule\'s own recipients replace them.'),
  FLOWSCOPE_EMAIL_MAX_ATTEMPTS: envInt(10, 1, 100).describe('Delivery attempts per email before it is marked failed.'),
  FLOWSCOPE_EMAIL_BACKOFF_MS: envInt(5000, 1, 3_600_000).describe('First retry delay; each further retry doubles it.'),
  FLOWSCOPE_PUBLIC_URL: envUrl().transform((v) => (v ?? 'http://localhost:8000').replace(/\/+$/, '')).describe('Base URL of the query API, for links in emails.'),

  NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING: envNumber(2000, 0).describe('Warning threshold (ms) of the seeded frontend page load p95 rule (the old Next.js frontend\'s name).'),
  NEXT_PUBLIC_PAGE_LOAD_TIME_CRITICAL: envNumber(5000, 0).describe('Critical threshold (ms) of the seeded frontend page load p95 rule (the old Next.js frontend\'s name).'),
  NEXT_PUBLIC_API_RESPONSE_TIME_WARNING: envNumber(1000, 0).describe('Warning threshold (ms) of the seeded rule on API calls as the browser sees them (fetch/XHR p95; the old Next.js frontend\'s name).'),
  NEXT_PUBLIC_API_RESPONSE_TIME_CRITICAL: envNumber(3000, 0).describe('Critical threshold (ms) of the seeded rule on API calls as the browser sees them (fetch/XHR p95; the old Next.js frontend\'s name).'),

  FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: envNumber(15, 0.05, 86_400).describe('How often the evaluation job runs; a rule with a longer eval interval is evaluated on the ticks that cross it.'),
  FLOWSCOPE_ALERT_WINDOW_SECONDS: envInt(300, 60, 86_400).describe('Window of the rules seeded from configuration.'),
  FLOWSCOPE_ALERT_REMINDER_MINUTES: envNumber(60, 0).describe('A firing alert is re-notified this often while it keeps firing; 0 disables reminders.'),
  FLOWSCOPE_ALERT_HYSTERESIS: envNumber(0.1, 0, 0.9).describe('A firing alert resolves only once its value falls this fraction below its lowest threshold.'),
  FLOWSCOPE_ALERT_CAUSES_MAX: envInt(3, 0, 50).describe('Operations (latency alerts) or error origins (error-rate alerts) an alert email and GET /alerts/{id} list as `causes`, each with an example workflow; 0 lists none.'),
  FLOWSCOPE_BASELINE_WINDOW_HOURS: envInt(24, 1, 24 * 366).describe('Hours of per-operation statistics before a workflow (its suspects) or an alert window (its causes, in the email and on GET /alerts/{id}) that make the baselines they are compared with.'),
  FLOWSCOPE_ALERT_MIN_SAMPLES: envInt(5, 1).describe('Fewer observations than this in a window count as no data.'),
  FLOWSCOPE_ALERT_RULES_FILE: envString().describe('JSON file of further default rules; the bundled alerting/rules/defaults.json when unset.'),

  FLOWSCOPE_RETENTION_SPANS_DAYS: envInt(30, 1, 36_500).describe('Days of trace_steps kept (whole daily partitions are dropped).'),
  FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS: envInt(7, 1, 36_500).describe('Days of performance_snapshots kept (whole daily partitions are dropped).'),
  FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: envNumber(60, 0.05, 86_400).describe('How often partitions, retention and workflow time-outs are maintained.'),

  FLOWSCOPE_QUEUE_PREFIX: envString('flowscope').describe('BullMQ key prefix (one per deployment, or per test).'),
  FLOWSCOPE_QUEUE_LOCK_MS: envInt(30_000, 500, 600_000).describe('BullMQ job lock; a job whose worker died is retried by another worker after about this long.'),
  FLOWSCOPE_EMAIL_CONCURRENCY: envInt(4, 1, 100).describe('Concurrent email deliveries per worker.'),

  FLOWSCOPE_ALERTING_METRICS_PORT: envInt(9464, 0, 65535).describe('Port of the worker\'s /health, /ready and /metrics; 0 disables.'),
};

export type AlertingConfig = z.output<z.ZodObject<typeof alertingConfigShape>>;

/** Parses a partial environment into a full config (tests, all-in-one defaults). */
export function alertingConfig(env: Record<string, string | undefined> = {}): AlertingConfig {
  return parseConfig(alertingConfigShape, env);
}
