import { describe, expect, it } from 'vitest';
import { buildTree, criticalPath, layerBreakdown, parseLiveEvent, type SpanNodeInput } from '../src/index.ts';
import { matches, parseSubscription } from '../src/ws.ts';
import { isoToMicros, keyValue } from '../src/routes/jaeger.ts';

const s = (id: string, parent: string | null, start: number, end: number, layer = 'service', trace = 't1'): SpanNodeInput => ({
  trace_id: trace, span_id: id, parent_span_id: parent, name: id, layer, component: layer, start_us: start, end_us: end,
});
const path = (spans: SpanNodeInput[]) => criticalPath(buildTree(spans)).map((p) => [p.span_id, p.start_us, p.end_us]);

describe('span tree analysis', () => {
  it('self time subtracts the union of children, clipped to the parent', () => {
    const roots = buildTree([s('r', null, 0, 100), s('a', 'r', 10, 60), s('b', 'r', 40, 80), s('late', 'r', 90, 150)]);
    expect(roots[0]!.self_us).toBe(100 - 70 - 10); // [10,80] and [90,100]
    expect(roots[0]!.children.map((c) => c.span.span_id)).toEqual(['a', 'b', 'late']);
  });

  it('orphans (parent not stored) become roots; spans of several traces hang under a virtual root with gaps', () => {
    const spans = [s('a', null, 0, 10, 'api', 't1'), s('b', 'missing', 20, 30, 'api', 't2')];
    expect(buildTree(spans).map((n) => n.span.span_id)).toEqual(['a', 'b']);
    expect(path(spans)).toEqual([['a', 0, 10], [null, 10, 20], ['b', 20, 30]]);
  });

  it('fire-and-forget work after the parent ended is not on the parent path', () => {
    expect(path([s('r', null, 0, 50), s('c', 'r', 10, 20), s('async', 'r', 60, 90)])).toEqual([['r', 0, 10], ['c', 10, 20], ['r', 20, 50]]);
  });

  it('a child that overruns its parent is clipped to it', () => {
    expect(path([s('r', null, 0, 50), s('c', 'r', 30, 80)])).toEqual([['r', 0, 30], ['c', 30, 50]]);
  });

  it('sequential children: every one is on the path', () => {
    expect(path([s('r', null, 0, 30), s('a', 'r', 0, 10), s('b', 'r', 10, 20), s('c', 'r', 20, 30)])).toEqual([['a', 0, 10], ['b', 10, 20], ['c', 20, 30]]);
  });

  it('a chain of 20,000 spans does not overflow the stack', () => {
    const spans = Array.from({ length: 20_000 }, (_, i) => s(`s${i}`, i === 0 ? null : `s${i - 1}`, i, 40_000 - i));
    const roots = buildTree(spans);
    expect(layerBreakdown(roots)).toEqual([{ layer: 'service', self_ms: 40, span_count: 20_000, share: 1 }]);
    expect(criticalPath(roots).reduce((t, p) => t + p.end_us - p.start_us, 0)).toBe(40_000);
  });

  it('empty input', () => {
    expect(criticalPath([])).toEqual([]);
    expect(layerBreakdown([])).toEqual([]);
  });
});

describe('live events and subscriptions', () => {
  const wf = { type: 'workflow.failed', workflow_id: 'w', workflow_type: 'checkout', at: '2025-01-01T00:00:00Z' };
  it.each([
    [wf, true],
    [{ ...wf, type: 'workflow.exploded' }, false],
    [{ ...wf, workflow_id: 5 }, false],
    [{ type: 'alert.firing', alert_id: 1, rule_id: 2, at: 'x' }, true],
    [{ type: 'alert.firing', alert_id: '1', rule_id: 2, at: 'x' }, false],
    [null, false],
    ['workflow.failed', false],
  ])('parseLiveEvent(%j) accepted: %s', (raw, ok) => expect(parseLiveEvent(raw) !== null).toBe(ok));

  it('subscriptions filter by workflow type and event type', () => {
    const sub = parseSubscription({ workflow_types: ['checkout'], workflow_events: ['workflow.failed'] });
    if (typeof sub === 'string') throw new Error(sub);
    expect(matches(sub, parseLiveEvent(wf)!)).toBe(true);
    expect(matches(sub, parseLiveEvent({ ...wf, workflow_type: 'login' })!)).toBe(false);
    expect(matches(sub, parseLiveEvent({ ...wf, type: 'workflow.completed' })!)).toBe(false);
    expect(matches(sub, parseLiveEvent({ type: 'alert.firing', alert_id: 1, rule_id: 2, at: 'x' })!)).toBe(false);
    const all = parseSubscription({ workflow_types: ['*'], alerts: true });
    if (typeof all === 'string') throw new Error(all);
    expect(matches(all, parseLiveEvent({ ...wf, workflow_type: 'anything' })!)).toBe(true);
    expect(typeof parseSubscription({ workflow_types: 'checkout' })).toBe('string');
    expect(typeof parseSubscription({ workflow_events: ['workflow.nope'] })).toBe('string');
    expect(typeof parseSubscription({ alerts: 'yes' })).toBe('string');
  });
});

describe('Jaeger value mapping', () => {
  it.each([
    ['s', { key: 'k', type: 'string', value: 's' }],
    [true, { key: 'k', type: 'bool', value: true }],
    [3, { key: 'k', type: 'int64', value: 3 }],
    [3.5, { key: 'k', type: 'float64', value: 3.5 }],
    [[1, 'a'], { key: 'k', type: 'string', value: '[1,"a"]' }],
    [null, { key: 'k', type: 'string', value: 'null' }],
  ])('%j', (v, expected) => expect(keyValue('k', v)).toEqual(expected));
  it('ISO times with micro- and nanosecond digits keep microseconds', () => {
    expect(isoToMicros('2025-06-02T10:00:00.060123Z')).toBe(Date.UTC(2025, 5, 2, 10) * 1000 + 60123);
    expect(isoToMicros('2025-06-02T10:00:00.060123456Z')).toBe(Date.UTC(2025, 5, 2, 10) * 1000 + 60123);
    expect(isoToMicros('2025-06-02T10:00:00Z')).toBe(Date.UTC(2025, 5, 2, 10) * 1000);
    expect(isoToMicros('2025-06-02T12:00:00.5+02:00')).toBe(Date.UTC(2025, 5, 2, 10) * 1000 + 500_000);
  });
});
