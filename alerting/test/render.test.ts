import { describe, expect, it } from 'vitest';
import { renderAlertEmail, type AlertEmailInput } from '../src/render.ts';
import { alertingConfig } from '../src/config.ts';
import { configRules, loadRulesFile, DEFAULT_RULES_FILE, parseMetric } from '../src/rules.ts';

const input: AlertEmailInput = {
  kind: 'firing',
  rule: { id: 2, name: 'db_query_time_p95', description: 'p95 of <database> spans', metric: 'duration_ms:p95', statistic: 'p95', snapshotMetric: 'duration_ms', warning: 50, critical: 100, windowSeconds: 300 },
  scope: { workflow_type: 'checkout', layer: 'database', component: null },
  alertId: 41,
  severity: 'critical',
  value: 312.4,
  threshold: 100,
  count: 120,
  firstSeenMs: Date.UTC(2025, 0, 2, 3, 4, 5),
  nowMs: Date.UTC(2025, 0, 2, 3, 9, 5),
  publicUrl: 'https://fs.example.com',
};

describe('alert email rendering', () => {
  it('says what fired, the value against the threshold, workflow type and layer, since when, with links', () => {
    const e = renderAlertEmail(input);
    expect(e.subject).toBe('[flowscope] CRITICAL: checkout / database p95 latency 312 ms ≥ 100 ms');
    expect(e.text).toContain('Rule: db_query_time_p95 (duration_ms:p95)');
    expect(e.text).toContain('Workflow type: checkout');
    expect(e.text).toContain('Layer: database');
    expect(e.text).toContain('Value: 312 ms (p95 latency over the last 5 min, 120 observations)');
    expect(e.text).toContain('Threshold: 100 ms (warning 50 ms, critical 100 ms)');
    expect(e.text).toContain('Firing since: 2025-01-02T03:04:05Z (5 min ago)');
    expect(e.text).toContain('https://fs.example.com/api/v1/debugging/workflows?workflow_type=checkout&from=2025-01-02T03%3A04%3A05Z&to=2025-01-02T03%3A09%3A05Z&min_duration_ms=100');
    expect(e.text).toContain('https://fs.example.com/api/v1/debugging/alerts/41');
    expect(e.html).toContain('&lt;database&gt;');
    expect(e.html).not.toContain('<database>');
    expect(e.html).toContain('href="https://fs.example.com/api/v1/debugging/alerts/41"');
    // the pages a person clicks (the UI), each followed by its JSON route
    expect(e.text).toContain('Slow workflows: https://fs.example.com/workflows?type=checkout&min_ms=100&from=2025-01-02T03%3A04%3A05Z&to=2025-01-02T03%3A09%3A05Z\n    JSON (Authorization: Bearer): https://fs.example.com/api/v1/debugging/workflows?');
    expect(e.text).toContain('Alert: https://fs.example.com/alerts/41\n');
    expect(e.html).toContain('<a href="https://fs.example.com/alerts/41">Alert</a>');
    expect(e.text).toContain('Performance: https://fs.example.com/performance?workflow_type=checkout&from=2025-01-02T03%3A04%3A05Z&to=2025-01-02T03%3A09%3A05Z&layer=database');
  });

  it('renders resolved, escalated and reminder notifications distinctly', () => {
    expect(renderAlertEmail({ ...input, kind: 'resolved', value: 20 }).subject).toBe('[flowscope] RESOLVED (was CRITICAL): checkout / database p95 latency 20 ms, back under 100 ms');
    expect(renderAlertEmail({ ...input, kind: 'escalated' }).subject).toContain('CRITICAL (escalated)');
    expect(renderAlertEmail({ ...input, kind: 'reminder' }).subject).toContain('CRITICAL (still firing)');
    expect(renderAlertEmail({ ...input, kind: 'resolved', value: null }).text).toContain('Value: no data');
  });

  it('error rate rules link to failed workflows and errors', () => {
    const e = renderAlertEmail({ ...input, rule: { ...input.rule, metric: 'duration_ms:error_pct', statistic: 'error_pct' }, value: 12.5, threshold: 10, scope: { workflow_type: 'login', layer: 'api', component: null } });
    expect(e.subject).toContain('login / api error rate 12.5 % ≥ 10.0 %');
    expect(e.text).toContain('status=failed');
    expect(e.text).toContain('/api/v1/debugging/errors?workflow_type=login');
    expect(e.text).toContain('Failed workflows: https://fs.example.com/workflows?type=login&status=failed&');
    expect(e.text).toContain('Errors: https://fs.example.com/errors?workflow_type=login&');
  });
});

describe('rules and configuration', () => {
  it('seeds the api and database p95 rules from the DEBUGGING_* thresholds', () => {
    const config = alertingConfig({ DEBUGGING_DB_QUERY_TIME_WARNING: '70', DEBUGGING_DB_QUERY_TIME_CRITICAL: '140' });
    const rules = configRules(config);
    expect(rules.map((r) => [r.name, r.layer, r.workflow_type, r.warning_threshold, r.critical_threshold])).toEqual([
      ['api_response_time_p95', 'api', '*', 200, 500],
      ['db_query_time_p95', 'database', '*', 70, 140],
      ['frontend_page_load_p95', 'frontend', '*', 2000, 5000],
      ['frontend_browser_api_p95', 'frontend', '*', 1000, 3000],
    ]);
  });

  it('seeds the frontend page load and browser API rules from the old frontend\'s NEXT_PUBLIC_* thresholds', () => {
    const config = alertingConfig({
      NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING: '1500',
      NEXT_PUBLIC_PAGE_LOAD_TIME_CRITICAL: '4000',
      NEXT_PUBLIC_API_RESPONSE_TIME_WARNING: '0',
      NEXT_PUBLIC_API_RESPONSE_TIME_CRITICAL: '0',
    });
    const byName = Object.fromEntries(configRules(config).map((r) => [r.name, r]));
    expect(byName.frontend_page_load_p95).toMatchObject({ metric: 'page_load_ms:p95', layer: 'frontend', workflow_type: '*', warning_threshold: 1500, critical_threshold: 4000 });
    // 0 is the edge: allowed (every call over it); below it the variable is named in the error.
    expect(byName.frontend_browser_api_p95).toMatchObject({ metric: 'browser_api_ms:p95', layer: 'frontend', warning_threshold: 0, critical_threshold: 0 });
    expect(() => alertingConfig({ NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING: '-1' })).toThrow(/NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING/);
    expect(() => alertingConfig({ NEXT_PUBLIC_API_RESPONSE_TIME_CRITICAL: 'fast' })).toThrow(/NEXT_PUBLIC_API_RESPONSE_TIME_CRITICAL/);
    // A warning above its critical threshold is refused, naming both variables.
    expect(() => configRules(alertingConfig({ NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING: '5001' }))).toThrow(
      'invalid alert thresholds: NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING (5001) exceeds NEXT_PUBLIC_PAGE_LOAD_TIME_CRITICAL (5000)',
    );
    expect(configRules(alertingConfig({ NEXT_PUBLIC_PAGE_LOAD_TIME_WARNING: '5000' })).find((r) => r.name === 'frontend_page_load_p95')?.warning_threshold).toBe(5000);
  });

  it('the bundled defaults hold the error rate per workflow type', async () => {
    const rules = await loadRulesFile(DEFAULT_RULES_FILE);
    const byName = Object.fromEntries(rules.map((r) => [r.name, r]));
    expect(byName.workflow_error_rate).toMatchObject({ metric: 'duration_ms:error_pct', workflow_type: '*' });
  });

  it.each([
    ['duration_ms:p95', { snapshotMetric: 'duration_ms', statistic: 'p95' }],
    ['page_load_ms:error_pct', { snapshotMetric: 'page_load_ms', statistic: 'error_pct' }],
    ['duration_ms', undefined],
    ['duration_ms:p42', undefined],
  ])('parseMetric(%s)', (metric, expected) => {
    expect(parseMetric(metric)).toEqual(expected);
  });

  it('names the bad variable and hides the password', () => {
    expect(() => alertingConfig({ EMAIL_PORT: 'smtp', EMAIL_USE_TLS: 'yes' })).toThrow(/EMAIL_PORT[\s\S]*EMAIL_USE_TLS|EMAIL_USE_TLS[\s\S]*EMAIL_PORT/);
    const c = alertingConfig({ EMAIL_USE_TLS: 'True', FLOWSCOPE_ALERT_EMAIL_TO: 'a@x.io, b@x.io', FLOWSCOPE_PUBLIC_URL: 'https://x.io/' });
    expect(c.EMAIL_USE_TLS).toBe(true);
    expect(c.FLOWSCOPE_ALERT_EMAIL_TO).toEqual(['a@x.io', 'b@x.io']);
    expect(c.FLOWSCOPE_PUBLIC_URL).toBe('https://x.io');
    expect(c.FLOWSCOPE_RETENTION_SPANS_DAYS).toBe(30);
    expect(c.FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS).toBe(7);
  });
});
