import type { AlertRule, ScopeField } from './rules.ts';
import type { Severity } from './state.ts';

export type NotificationKind = 'firing' | 'escalated' | 'reminder' | 'resolved';

export interface AlertEmailInput {
  kind: NotificationKind;
  rule: Pick<AlertRule, 'id' | 'name' | 'description' | 'metric' | 'statistic' | 'snapshotMetric' | 'warning' | 'critical' | 'windowSeconds'>;
  scope: Record<ScopeField, string | null>;
  alertId: number;
  severity: Severity;
  /** The value that triggered this notification; null when the scope had no data (resolved). */
  value: number | null;
  threshold: number;
  count: number;
  firstSeenMs: number;
  nowMs: number;
  publicUrl: string;
  /**
   * What points at the cause: for a latency alert the operations whose p95 in the window most
   * exceeds their baseline, for an error-rate alert the top error origins; each with an
   * exemplar workflow. Empty or absent: nothing to point at (no data, or resolved).
   */
  causes?: AlertCause[];
}

export interface AlertCause {
  layer: string;
  component: string;
  operation: string;
  /** One line of evidence, e.g. "p95 92 ms vs usual 3.4 ms (27×)" or "14 failures: UniqueViolation …". */
  detail: string;
  exemplarWorkflowId: string | null;
}

/** The UI page of one workflow run (the shared UI route), absolute with the public URL. */
export const workflowPageUrl = (publicUrl: string, workflowId: string) => `${publicUrl}/workflows/${encodeURIComponent(workflowId)}`;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const STAT_LABEL: Record<string, string> = {
  p50: 'p50 latency',
  p90: 'p90 latency',
  p95: 'p95 latency',
  p99: 'p99 latency',
  avg: 'average latency',
  max: 'maximum latency',
  error_pct: 'error rate',
};

export function formatValue(statistic: string, v: number | null): string {
  if (v === null) return 'no data';
  if (statistic === 'error_pct') return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} %`;
  return `${v < 10 ? v.toFixed(2) : Math.round(v).toString()} ms`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Links into flowscope: each a page of the UI (`url`, what a person clicks) and the JSON route
 * with the same data (`api`, for scripts): the workflows of the scope, sample slow or failed
 * ones, the errors, the series, the alert. Absolute with FLOWSCOPE_PUBLIC_URL.
 */
export function alertLinks(input: AlertEmailInput): { label: string; url: string; api: string }[] {
  const base = input.publicUrl;
  const api = `${base}/api/v1/debugging`;
  const from = iso(Math.min(input.firstSeenMs, input.nowMs - input.rule.windowSeconds * 1000));
  const to = iso(input.nowMs);
  const type = input.scope.workflow_type;
  const qs = (pairs: [string, string | null | undefined][]) => {
    const p = new URLSearchParams();
    for (const [k, v] of pairs) if (v !== null && v !== undefined) p.set(k, v);
    return p.toString();
  };
  // the UI's list filters are `type`, `status`, `min_ms`; the API's `workflow_type`, `status`, `min_duration_ms`
  const links = [{ label: 'Workflows', url: `${base}/workflows?${qs([['type', type], ['from', from], ['to', to]])}`, api: `${api}/workflows?${qs([['workflow_type', type], ['from', from], ['to', to]])}` }];
  if (input.rule.statistic === 'error_pct') {
    links.push({
      label: 'Failed workflows',
      url: `${base}/workflows?${qs([['type', type], ['status', 'failed'], ['from', from], ['to', to]])}`,
      api: `${api}/workflows?${qs([['workflow_type', type], ['from', from], ['to', to], ['status', 'failed']])}`,
    });
    const errs = qs([['workflow_type', type], ['from', from], ['to', to], ['layer', input.scope.layer]]);
    links.push({ label: 'Errors', url: `${base}/errors?${errs}`, api: `${api}/errors?${errs}` });
  } else {
    const min = String(Math.round(input.threshold));
    links.push({
      label: 'Slow workflows',
      url: `${base}/workflows?${qs([['type', type], ['min_ms', min], ['from', from], ['to', to]])}`,
      api: `${api}/workflows?${qs([['workflow_type', type], ['from', from], ['to', to], ['min_duration_ms', min]])}`,
    });
  }
  const perf = qs([['workflow_type', type], ['from', from], ['to', to], ['layer', input.scope.layer], ['component', input.scope.component]]);
  links.push({ label: 'Performance', url: `${base}/performance?${perf}`, api: `${api}/performance?${perf}` });
  links.push({ label: 'Alert', url: `${base}/alerts/${input.alertId}`, api: `${api}/alerts/${input.alertId}` });
  return links;
}

/** Subject and plain-text and HTML bodies of an alert notification. */
export function renderAlertEmail(input: AlertEmailInput): RenderedEmail {
  const { rule, scope } = input;
  const what = STAT_LABEL[rule.statistic] ?? rule.statistic;
  const where = [scope.workflow_type ?? 'all workflows', scope.layer ?? 'all layers', ...(scope.component ? [scope.component] : [])].join(' / ');
  const value = formatValue(rule.statistic, input.value);
  const threshold = formatValue(rule.statistic, input.threshold);
  const sev = input.severity.toUpperCase();
  const head =
    input.kind === 'resolved'
      ? `RESOLVED (was ${sev})`
      : input.kind === 'escalated'
        ? `${sev} (escalated)`
        : input.kind === 'reminder'
          ? `${sev} (still firing)`
          : sev;
  const comparison = input.kind === 'resolved' ? `${value}, back under ${threshold}` : `${value} ≥ ${threshold}`;
  const subject = `[flowscope] ${head}: ${where} ${what} ${comparison}`;
  const since = input.kind === 'resolved' ? `${iso(input.firstSeenMs)} until ${iso(input.nowMs)} (${duration(input.nowMs - input.firstSeenMs)})` : `${iso(input.firstSeenMs)} (${duration(input.nowMs - input.firstSeenMs)} ago)`;
  const thresholds = [rule.warning !== null ? `warning ${formatValue(rule.statistic, rule.warning)}` : null, rule.critical !== null ? `critical ${formatValue(rule.statistic, rule.critical)}` : null]
    .filter((s): s is string => s !== null)
    .join(', ');
  const fields: [string, string][] = [
    ['Status', head],
    ['Rule', `${rule.name} (${rule.metric})`],
    ['Workflow type', scope.workflow_type ?? 'all'],
    ['Layer', scope.layer ?? 'all'],
    ['Component', scope.component ?? 'all'],
    ['Value', `${value} (${what} over the last ${duration(rule.windowSeconds * 1000)}, ${input.count} observations)`],
    ['Threshold', `${threshold} (${thresholds})`],
    [input.kind === 'resolved' ? 'Fired' : 'Firing since', since],
  ];
  const links = alertLinks(input);
  const causes = input.causes ?? [];
  const causeTitle = rule.statistic === 'error_pct' ? 'Where the errors start' : 'Operations slower than their baseline';
  const causeLine = (c: AlertCause) => `${c.component} ${c.operation} (${c.layer}): ${c.detail}`;
  const text = [
    subject.replace(/^\[flowscope\] /, ''),
    '',
    ...fields.map(([k, v]) => `${k}: ${v}`),
    ...(causes.length > 0
      ? [
          '',
          `${causeTitle}:`,
          ...causes.flatMap((c, i) => [
            `  ${i + 1}. ${causeLine(c)}`,
            ...(c.exemplarWorkflowId ? [`     Example workflow: ${workflowPageUrl(input.publicUrl, c.exemplarWorkflowId)}`] : []),
          ]),
        ]
      : []),
    ...(rule.description ? ['', rule.description] : []),
    '',
    'Links:',
    ...links.flatMap((l) => [`  ${l.label}: ${l.url}`, `    JSON (Authorization: Bearer): ${l.api}`]),
    '',
    '-- ',
    'flowscope alerting. Alerts are not repeated while they keep firing; a reminder follows after the configured interval.',
    '',
  ].join('\n');
  const color = input.kind === 'resolved' ? '#2e7d32' : input.severity === 'critical' ? '#c62828' : '#ef6c00';
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; font-size: 14px;">
<h2 style="color: ${color}; margin: 0 0 12px;">${esc(head)}: ${esc(where)} ${esc(what)}</h2>
<table cellpadding="4" style="border-collapse: collapse;">
${fields.map(([k, v]) => `<tr><th align="left" style="padding-right: 16px;">${esc(k)}</th><td>${esc(v)}</td></tr>`).join('\n')}
</table>
${causes.length > 0 ? `<h3 style="margin: 16px 0 4px;">${esc(causeTitle)}</h3>
<ol>
${causes.map((c) => `<li>${esc(causeLine(c))}${c.exemplarWorkflowId ? ` — <a href="${esc(workflowPageUrl(input.publicUrl, c.exemplarWorkflowId))}">example workflow</a>` : ''}</li>`).join('\n')}
</ol>` : ''}
${rule.description ? `<p>${esc(rule.description)}</p>` : ''}
<ul>
${links.map((l) => `<li><a href="${esc(l.url)}">${esc(l.label)}</a> <span style="color: #777; font-size: 12px;">(<a href="${esc(l.api)}" style="color: #777;">JSON</a>)</span></li>`).join('\n')}
</ul>
<p style="color: #777; font-size: 12px;">flowscope alerting. Alerts are not repeated while they keep firing; a reminder follows after the configured interval.</p>
</body></html>
`;
  return { subject, text, html };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
