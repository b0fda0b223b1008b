/**
 * Prometheus metric names the dashboards and alerting rules may use: the seed system's panel
 * metrics (ARCHITECTURE.md keeps their names) and the collector's own counters. Tests hold
 * the dashboards and `prometheus/rules/flowscope.rules.yml` to this list, so a renamed
 * metric breaks a test instead of a panel.
 */
export const METRICS = {
  /** gauge {workflow_type}: workflows in progress. */
  activeWorkflows: 'debugging_active_workflows_total',
  /** counter {workflow_type, layer, error_type}. */
  errors: 'debugging_errors_total',
  /** histogram {workflow_type, layer}, seconds. */
  responseTime: 'debugging_response_time_seconds',
  /** counter: spans decoded from export requests. */
  spansReceived: 'flowscope_spans_received_total',
  /** counter: spans acknowledged to the sender. */
  spansAccepted: 'flowscope_spans_accepted_total',
  /** counter {reason}: spans refused. */
  spansRefused: 'flowscope_spans_refused_total',
  /** histogram, seconds: time to commit one group-commit batch. */
  writeDuration: 'flowscope_write_duration_seconds',
} as const;

/** Series names a query may use: the metrics, histogram series, and Prometheus' own `up`. */
export function knownSeriesNames(): Set<string> {
  const names = new Set<string>(['up']);
  for (const name of Object.values(METRICS)) {
    names.add(name);
    if (name.endsWith('_seconds')) {
      for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/**
 * Metric names a PromQL expression refers to: every `debugging_*` / `flowscope_*` identifier
 * outside label matchers and strings, and `up`.
 */
export function seriesNamesIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const found = new Set<string>();
  for (const match of bare.matchAll(/\b(?:debugging|flowscope)_[a-zA-Z0-9_:]*|\bup\b/g)) found.add(match[0]);
  return [...found].sort();
}
