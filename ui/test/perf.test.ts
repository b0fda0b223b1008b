import { describe, expect, it } from 'vitest';
import { stepFor, thresholdsFor, toColumns, type RuleLike } from '../src/lib/perf.ts';
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
});

describe('series shaping', () => {
  it('columns: seconds on x, nulls kept, scaled', () => {
    const p = (time: string, p95: number | null, er: number | null) => ({ time, count: 1, rate_per_second: 0.1, error_count: 0, error_rate: er, p50_ms: null, p95_ms: p95, p99_ms: null });
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
