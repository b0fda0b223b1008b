import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Database } from '@flowscope/storage';
import { ALERT_STATISTICS, SNAPSHOT_METRICS, enabledRules, seedRules as seedRuleRows } from '@flowscope/storage';
import type { AlertingConfig } from './config.ts';

/**
 * alert_rules.metric is `<snapshot metric>:<statistic>`: the performance_snapshots metric the
 * rule reads (duration_ms, page_load_ms, browser_api_ms, …) and what it computes over the window.
 * Latency statistics are in ms; error_pct is the percentage of observations that were errors.
 */
export const STATISTICS = ALERT_STATISTICS;
export type Statistic = (typeof STATISTICS)[number];

/**
 * Scope fields (workflow_type, layer, component): a value filters on it; NULL aggregates over all
 * values; `*` evaluates every value separately, one alert per value (e.g. one per workflow type).
 */
export const EACH = '*';
export const SCOPE_FIELDS = ['workflow_type', 'layer', 'component'] as const;
export type ScopeField = (typeof SCOPE_FIELDS)[number];

export interface AlertRule {
  id: number;
  name: string;
  description: string;
  metric: string;
  snapshotMetric: string;
  statistic: Statistic;
  workflow_type: string | null;
  layer: string | null;
  component: string | null;
  warning: number | null;
  critical: number | null;
  windowSeconds: number;
  evalIntervalSeconds: number;
  recipients: string[];
}

export function parseMetric(metric: string): { snapshotMetric: string; statistic: Statistic } | undefined {
  const at = metric.lastIndexOf(':');
  if (at <= 0) return undefined;
  const statistic = metric.slice(at + 1) as Statistic;
  if (!STATISTICS.includes(statistic)) return undefined;
  return { snapshotMetric: metric.slice(0, at), statistic };
}

/** A rule as seeded (the JSON fixture's shape). */
export const seedRuleSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    metric: z.string().refine((m) => parseMetric(m) !== undefined, 'expected "<snapshot metric>:<p50|p90|p95|p99|avg|max|error_pct>"'),
    workflow_type: z.string().nullable().default(null),
    layer: z.string().nullable().default(null),
    component: z.string().nullable().default(null),
    warning_threshold: z.number().nonnegative().nullable().default(null),
    critical_threshold: z.number().nonnegative().nullable().default(null),
    window_seconds: z.number().int().min(60).default(300),
    eval_interval_seconds: z.number().int().min(1).default(15),
    recipients: z.array(z.string()).default([]),
    enabled: z.boolean().default(true),
  })
  .refine((r) => r.warning_threshold !== null || r.critical_threshold !== null, 'a rule needs a warning or a critical threshold')
  .refine(
    (r) => r.warning_threshold === null || r.critical_threshold === null || r.warning_threshold <= r.critical_threshold,
    'warning_threshold must not exceed critical_threshold',
  );
export type SeedRule = z.output<typeof seedRuleSchema>;

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../rules/defaults.json', import.meta.url));

/**
 * The rules whose thresholds come from the environment, as the replaced system had them: its
 * backend's DEBUGGING_* (api and database) and its Next.js frontend's NEXT_PUBLIC_* (page load
 * and the browser's API calls).
 */
export function configRules(config: AlertingConfig): SeedRule[] {
  // Evaluated on every tick of the evaluation job (whole seconds: the column is an integer).
  const base = { component: null, recipients: [], enabled: true, eval_interval_seconds: Math.max(1, Math.ceil(config.FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS)) };
  const pairs: Array<[string, number, number]> = [
    ['DEBUGGING_API_RESPONSE_TIME', config.DEBUGGING_API_RESPONSE_TIME_WARNING, config.DEBUGGING_API_RESPONSE_TIME_CRITICAL],
    ['DEBUGGING_DB_QUERY_TIME', config.DEBUGGING_DB_QUERY_TIME_WARNING, config.DEBUGGING_DB_QUERY_TIME_CRITICAL],
    ['NEXT_PUBLIC_PAGE_LOAD_TIME', config.NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING, config.NEXT_PUBLIC_PAGE_LOAD_TIME_CRITICAL],
    ['NEXT_PUBLIC_API_RESPONSE_TIME', config.NEXT_PUBLIC_API_RESPONSE_TIME_WARNING, config.NEXT_PUBLIC_API_RESPONSE_TIME_CRITICAL],
  ];
  const inverted = pairs.filter(([, warning, critical]) => warning > critical).map(([name, w, c]) => `${name}_WARNING (${w}) exceeds ${name}_CRITICAL (${c})`);
  if (inverted.length > 0) throw new Error(`invalid alert thresholds: ${inverted.join('; ')}`);
  return [
    {
      ...base,
      name: 'api_response_time_p95',
      description: 'p95 latency of api-layer spans (requests served), per workflow type. Thresholds: DEBUGGING_API_RESPONSE_TIME_WARNING/CRITICAL.',
      metric: `${SNAPSHOT_METRICS.duration}:p95`,
      workflow_type: EACH,
      layer: 'api',
      warning_threshold: config.DEBUGGING_API_RESPONSE_TIME_WARNING,
      critical_threshold: config.DEBUGGING_API_RESPONSE_TIME_CRITICAL,
      window_seconds: config.FLOWSCOPE_ALERT_WINDOW_SECONDS,
    },
    {
      ...base,
      name: 'db_query_time_p95',
      description: 'p95 latency of database-layer spans (queries), per workflow type. Thresholds: DEBUGGING_DB_QUERY_TIME_WARNING/CRITICAL.',
      metric: `${SNAPSHOT_METRICS.duration}:p95`,
      workflow_type: EACH,
      layer: 'database',
      warning_threshold: config.DEBUGGING_DB_QUERY_TIME_WARNING,
      critical_threshold: config.DEBUGGING_DB_QUERY_TIME_CRITICAL,
      window_seconds: config.FLOWSCOPE_ALERT_WINDOW_SECONDS,
    },
    {
      ...base,
      name: 'frontend_page_load_p95',
      description: 'p95 page load time as the browser measures it, per workflow type. Thresholds: NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING/CRITICAL.',
      metric: `${SNAPSHOT_METRICS.pageLoad}:p95`,
      workflow_type: EACH,
      layer: 'frontend',
      warning_threshold: config.NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING,
      critical_threshold: config.NEXT_PUBLIC_PAGE_LOAD_TIME_CRITICAL,
      window_seconds: config.FLOWSCOPE_ALERT_WINDOW_SECONDS,
    },
    {
      ...base,
      name: 'frontend_browser_api_p95',
      description: 'p95 duration of API calls (fetch/XHR) as the browser sees them, per workflow type. Thresholds: NEXT_PUBLIC_API_RESPONSE_TIME_WARNING/CRITICAL.',
      metric: `${SNAPSHOT_METRICS.browserApi}:p95`,
      workflow_type: EACH,
      layer: 'frontend',
      warning_threshold: config.NEXT_PUBLIC_API_RESPONSE_TIME_WARNING,
      critical_threshold: config.NEXT_PUBLIC_API_RESPONSE_TIME_CRITICAL,
      window_seconds: config.FLOWSCOPE_ALERT_WINDOW_SECONDS,
    },
  ];
}

export async function loadRulesFile(path: string): Promise<SeedRule[]> {
  const raw: unknown = JSON.parse(await readFile(path, 'utf8'));
  const parsed = z.array(seedRuleSchema).safeParse(raw);
  if (!parsed.success) {
    throw new Error(`alert rules file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/**
 * Seeds alert_rules. Rules from configuration ('config') take their thresholds from the
 * environment on every start, so changing DEBUGGING_*_WARNING/CRITICAL takes effect on restart;
 * their enabled flag, window and recipients stay as an admin set them. Rules from the defaults
 * file ('defaults') are inserted once by name and never overwritten, so API edits stick.
 * Concurrent starts are safe (ON CONFLICT on the unique name).
 */
export async function seedRules(db: Database, config: AlertingConfig, rulesFile = config.FLOWSCOPE_ALERT_RULES_FILE ?? DEFAULT_RULES_FILE): Promise<void> {
  const fromFile = await loadRulesFile(rulesFile);
  const rows = [
    ...configRules(config).map((r) => ({ ...r, source: 'config' })),
    ...fromFile.map((r) => ({ ...r, source: 'defaults' })),
  ];
  await seedRuleRows(db, rows);
}

/** Enabled rules with a metric this worker understands; others are returned as `invalid`. */
export async function loadRules(db: Database): Promise<{ rules: AlertRule[]; invalid: string[] }> {
  const rows = await enabledRules(db);
  const rules: AlertRule[] = [];
  const invalid: string[] = [];
  for (const r of rows) {
    const m = parseMetric(r.metric);
    const warning = r.warning_threshold;
    const critical = r.critical_threshold;
    if (!m || (warning === null && critical === null)) {
      invalid.push(r.name);
      continue;
    }
    rules.push({
      id: r.id,
      name: r.name,
      description: r.description,
      metric: r.metric,
      ...m,
      workflow_type: r.workflow_type,
      layer: r.layer,
      component: r.component,
      warning,
      critical,
      windowSeconds: r.window_seconds,
      evalIntervalSeconds: r.eval_interval_seconds,
      recipients: r.recipients,
    });
  }
  return { rules, invalid };
}
