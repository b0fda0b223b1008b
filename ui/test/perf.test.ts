import { describe, expect, it } from 'vitest';
import { groupColumns, stepFor, thresholdsFor, toColumns, type PerfPoint, type RuleLike } from '../src/lib/perf.ts';
import { sumOf } from '../src/lib/metrics.ts';
import type { Sample } from '../src/lib/types.ts';

const rule = (over: Partial<RuleLike>): RuleLike => ({
  metric: 'duration_ms:p95', workflow_type: null, layer: 'api', component: null, warning_threshold: 200, critical_threshold: 500, enabled: true, ...over,
});

describe('thresholdsFor', () => {
  it.each([
    ['the layer rule', [rule({})], 'api', 'checkout', { warning: 200, critical: 500, source: 'rule duration_ms:p95' }],
    ['a workflow-type rule beats the layer rule', [rule({}), rule({ workflow_type: 'checkout', warning_threshold: 150 })], 'api', 'checkout', { warning: 150, critical: 500, source: 'rule duration_ms:p95' }],
    ["another type's rule does not apply", [rule({ workflow_type: 'login', warning_threshold: 1 })], 'api', 'checkout', { warning: 200, critical: 500, source: 'defaults' }],
    ['disabled and error-rate rules do not apply', [rule({ enabled: false, warning_threshold: 1 }), rule({ metric: 'duration_ms:error_pct', warning_threshold: 2 })], 'database', '', { warning: 50, critical: 100, source: 'defaults' }],
    ['page load defaults', [], 'frontend', '', { warning: 2000, critical: 5000, source: 'defaults' }],
    ['no line for a layer without threshold', [], 'cache', '', null],
  ])('%s', (_n, rules, layer, type, expected) => {
    expect(thresholdsFor(rules, layer, type)).toEqual(expected);
  });
  it("a component's rule beats the workflow type's and the layer's, for that component only", () => {
    const rules = [rule({}), rule({ workflow_type: 'checkout', warning_threshold: 150 }), rule({ component: 'ledger', warning_threshold: 90, critical_threshold: 300 })];
    expect(thresholdsFor(rules, 'api', 'checkout', 'ledger')).toEqual({ warning: 90, critical: 300, source: 'rule duration_ms:p95 of ledger' });
    expect(thresholdsFor(rules, 'api', 'checkout', 'shop')).toEqual({ warning: 150, critical: 500, source: 'rule duration_ms:p95' });
    expect(thresholdsFor(rules, 'api', 'checkout')).toEqual({ warning: 150, critical: 500, source: 'rule duration_ms:p95' });
  });
});

describe('groupColumns', () => {
  const pt = (time: string, count: number, p95: number | null, errors = 0): PerfPoint => ({
    time, count, rate_per_second: count / 60, error_count: errors, error_rate: count ? errors / count : null, avg_ms: null, min_ms: null, max_ms: null, p50_ms: null, p95_ms: p95, p99_ms: null,
  });
  const t = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:01:00.000Z'];
  const series = [
    { labels: { component: 'quiet' }, points: [pt(t[0]!, 1, 5), pt(t[1]!, 0, null)] },
    { labels: { component: 'busy' }, points: [pt(t[0]!, 10, 20, 1), pt(t[1]!, 30, 80, 2)] },
    { labels: { component: 'middle' }, points: [pt(t[0]!, 4, 7), pt(t[1]!, 4, 9)] },
  ];
  it('busiest first; the chart keeps the top ones, the rows keep all', () => {
    const g = groupColumns(series, 'component', 2);
    expect(g.names).toEqual(['busy', 'middle']);
    expect(g.cols).toEqual([[1767225600, 1767225660], [20, 80], [7, 9]]);
    expect(g.rows).toEqual([
      { name: 'busy', count: 40, errors: 3, worstP95: 80 },
      { name: 'middle', count: 8, errors: 0, worstP95: 9 },
      { name: 'quiet', count: 1, errors: 0, worstP95: 5 },
    ]);
  });
  it('no series: no columns', () => {
    expect(groupColumns([], 'component')).toEqual({ names: [], cols: [[]], rows: [] });
  });
});

describe('series shaping', () => {
  it('columns: seconds on x, nulls kept, scaled', () => {
    const p = (time: string, p95: number | null, er: number | null): PerfPoint => ({ time, count: 1, rate_per_second: 0.1, error_count: 0, error_rate: er, avg_ms: null, min_ms: null, max_ms: null, p50_ms: null, p95_ms: p95, p99_ms: null });
    expect(toColumns([p('2026-01-01T00:00:00.000Z', 12, 0.5), p('2026-01-01T00:01:00.000Z', null, null)], ['p95_ms', 'error_rate'], { error_rate: 100 })).toEqual([
      [1767225600, 1767225660], [12, null], [50, null],
    ]);
  });
  it.each([[3600_000, 60], [6 * 3600_000, 120], [24 * 3600_000, 360]])('step for %i ms is %i s', (range, step) => {
    expect(stepFor(range)).toBe(step);
  });
});

describe('sumOf', () => {
  const s: Sample[] = [
    { name: 'flowscope_alerting_queue_jobs', labels: { queue: 'email', state: 'waiting' }, value: 3 },
    { name: 'flowscope_alerting_queue_jobs', labels: { queue: 'evaluate', state: 'waiting' }, value: 1 },
    { name: 'flowscope_storage_up', labels: {}, value: 1 },
  ];
  it('sums the samples of a metric whose labels match', () => {
    expect(sumOf(s, 'flowscope_alerting_queue_jobs')).toBe(4);
    expect(sumOf(s, 'flowscope_alerting_queue_jobs', { queue: 'email' })).toBe(3);
    expect(sumOf(s, 'nope')).toBeUndefined();
  });
});
