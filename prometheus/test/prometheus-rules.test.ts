/**
 * Structure of prometheus/. promtool checks syntax and runs the rule unit tests (promtool.test.ts,
 * prometheus/check.sh); this holds the files to the contract: scrape targets and ports of
 * docs/architecture.md, and metric names that exist (the names the dashboards know, @flowscope/grafana).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { knownSeriesNames, seriesNamesIn } from '@flowscope/grafana';

const PROMETHEUS = join(import.meta.dirname, '..');
const load = (file: string): unknown => parse(readFileSync(join(PROMETHEUS, file), 'utf8'));

interface Rule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (load('rules/flowscope.rules.yml') as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r })));

describe('prometheus/rules/flowscope.rules.yml', () => {
  it('has the alerts flowscope promises', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'FlowscopeCollectorRefusingSpans',
      'FlowscopeCollectorInvalidSpans',
      'FlowscopeWriteLatencyHigh',
      'FlowscopeWorkflowErrorRateHigh',
      'FlowscopeWorkflowErrorRateCritical',
      'FlowscopeTargetDown',
      'FlowscopeStorageUnavailable',
      'FlowscopeAlertEvaluationFailing',
      'FlowscopeAlertEmailFailed',
      'FlowscopeAlertingQueueBacklog',
    ]);
  });

  it.each(rules.map((r) => [r.alert ?? r.record ?? '?', r] as const))('%s has expr, for, severity and annotations', (_name, rule) => {
    expect(rule.alert).toMatch(/^Flowscope[A-Za-z]+$/);
    expect(typeof rule.expr).toBe('string');
    expect(rule.for).toMatch(/^\d+[smh]$/);
    expect(['info', 'warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary?.length).toBeGreaterThan(10);
    expect(rule.annotations?.description?.length).toBeGreaterThan(10);
  });

  it.each(rules.map((r) => [r.alert!, r.expr ?? ''] as const))('%s uses only known metric names', (_name, expr) => {
    const known = knownSeriesNames();
    const names = seriesNamesIn(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(known, `unknown metric ${name}`).toContain(name);
  });

  it('every alert has a promtool unit test', () => {
    const tests = load('tests/flowscope.rules.test.yml') as { rule_files: string[]; tests: { alert_rule_test: { alertname: string }[] }[] };
    expect(tests.rule_files).toEqual(['../rules/flowscope.rules.yml']);
    const tested = new Set(tests.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    for (const rule of rules) expect(tested, rule.alert).toContain(rule.alert);
  });
});

describe('prometheus/prometheus.yml', () => {
  const config = load('prometheus.yml') as {
    rule_files: string[];
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };

  it('scrapes every flowscope process on its docs/architecture.md port by compose service name', () => {
    const jobs = Object.fromEntries(
      config.scrape_configs.map((s) => [s.job_name, { path: s.metrics_path ?? '/metrics', targets: s.static_configs.flatMap((c) => c.targets) }]),
    );
    expect(jobs['flowscope-collector']).toEqual({ path: '/metrics', targets: ['collector:4318'] });
    expect(jobs['flowscope-query-api']).toEqual({ path: '/metrics', targets: ['query-api:8000'] });
    expect(jobs['flowscope-alerting']).toEqual({ path: '/metrics', targets: ['alerting:9464'] });
  });

  it('loads the rule files', () => {
    expect(config.rule_files).toEqual(['rules/*.yml']);
  });

  it('all-in-one.yml scrapes the all-in-one on its two ports under the same job names', () => {
    const aio = load('all-in-one.yml') as typeof config;
    expect(aio.rule_files).toEqual(['rules/*.yml']);
    const jobs = Object.fromEntries(aio.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]));
    expect(jobs).toEqual({ 'flowscope-collector': ['flowscope-host:4318'], 'flowscope-query-api': ['flowscope-host:8000'], prometheus: ['localhost:9090'] });
  });

  it('the target-down alert watches every flowscope job', () => {
    const expr = rules.find((r) => r.alert === 'FlowscopeTargetDown')?.expr ?? '';
    const pattern = /job=~"([^"]+)"/.exec(expr)?.[1];
    expect(pattern).toBeDefined();
    const flowscopeJobs = config.scrape_configs.map((s) => s.job_name).filter((j) => j.startsWith('flowscope-'));
    expect(flowscopeJobs).toHaveLength(3);
    for (const job of flowscopeJobs) expect(job).toMatch(new RegExp(`^(?:${pattern})$`));
  });
});
