/**
 * Prometheus metric names the dashboards and alerting rules may use: the seed system's panel
 * metrics (docs/architecture.md keeps their names) and the collector's own counters. Tests hold
 * the dashboards and `prometheus/rules/flowscope.rules.yml` to this list, so a renamed
 * metric breaks a test instead of a panel.
 */
export const METRICS = {
  /** gauge {workflow_type}: workflows in progress (the same on every replica: take the max). */
  activeWorkflows: 'debugging_active_workflows_total',
  /** counter {workflow_type, layer, error_type}. */
  errors: 'debugging_errors_total',
  /** histogram {workflow_type, layer}, seconds. */
  responseTime: 'debugging_response_time_seconds',
  /** collector counter {transport, code}: OTLP export requests by response code. */
  exportRequests: 'flowscope_export_requests_total',
  /** collector counter: spans decoded from export requests. */
  spansReceived: 'flowscope_spans_received_total',
  /** collector counter: spans acknowledged to the sender. */
  spansAccepted: 'flowscope_spans_accepted_total',
  /** collector counter: spans newly written to storage. */
  spansStored: 'flowscope_spans_stored_total',
  /** collector counter {why}: spans dropped by sampling. */
  spansSampledOut: 'flowscope_spans_sampled_out_total',
  /** collector counter {reason}: spans refused. */
  spansRefused: 'flowscope_spans_refused_total',
  /** collector counter {reason}: spans by sampling decision reason. */
  samplingDecisions: 'flowscope_sampling_decisions_spans_total',
  /** collector histogram, seconds: time to commit one group-commit batch. */
  writeDuration: 'flowscope_write_duration_seconds',
  /** collector gauge: spans waiting for the writer. */
  writerQueue: 'flowscope_writer_queue_spans',
  /** collector gauge: spans held awaiting a sampling decision. */
  spansHeld: 'flowscope_spans_held',
  /** collector gauge: request body bytes in memory. */
  inflightBytes: 'flowscope_inflight_bytes',
  /** collector gauge: 1 while storage answers. */
  storageUp: 'flowscope_storage_up',
  /** query-api counter {method, route, status}. */
  queryRequests: 'flowscope_query_http_requests_total',
  /** query-api gauge {layer, severity, error_type}: unresolved errors (the same on every replica). */
  errorsUnresolved: 'flowscope_errors_unresolved',
  /** worker counter {outcome}: evaluation ticks. */
  alertEvaluations: 'flowscope_alerting_evaluations_total',
  /** worker counter {action, reason}: alert state machine decisions. */
  alertDecisions: 'flowscope_alerting_decisions_total',
  /** worker counter {outcome}: email delivery attempts. */
  emailAttempts: 'flowscope_alerting_email_attempts_total',
  /** worker gauge {queue, state}: jobs in the worker's queues. */
  queueJobs: 'flowscope_alerting_queue_jobs',
  /** worker gauge {rule, scope}: each rule's value at its last evaluation. */
  ruleValue: 'flowscope_alert_rule_value',
  /** worker gauge {rule, level, metric, workflow_type, layer, component}: rule thresholds. */
  ruleThreshold: 'flowscope_alert_rule_threshold',
} as const;

/** Series names a query may use: the metrics, histogram series, and Prometheus' own `up`. */
export function knownSeriesNames(): Set<string> {
  // Histograms are the metrics whose name ends in _seconds (Prometheus naming); their series
  // are _bucket, _count and _sum.
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
