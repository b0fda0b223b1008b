import { describe, expect, it } from 'vitest';
import { barGeometry, flattenSpans, timeTicks, visibleRows, windowRange } from '../src/lib/waterfall.ts';
import type { ApiSpan, CriticalSegment } from '../src/lib/types.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(T0 + ms).toISOString().replace('Z', '000Z');

function span(id: string, startMs: number, durMs: number, children: ApiSpan[] = [], over: Partial<ApiSpan> = {}): ApiSpan {
  return {
    trace_id: 't1', span_id: id, parent_span_id: null, workflow_id: 'w', workflow_type: 'checkout', layer: 'api', component: 'svc',
    name: id, kind: 2, status_code: 0, status_message: null, is_error: false, start_time: iso(startMs), end_time: iso(startMs + durMs),
    duration_ms: durMs, self_ms: durMs, user_id: null, attributes: {}, events: [], links: [], resource: {}, scope_name: null, children, ...over,
  };
}

describe('flattenSpans', () => {
  // root(0-100) ─ a(10-40) ─ a1(12-20)
  //             └ b(50-90, error)
  // second root r2(5-8)
  const tree = [span('root', 0, 100, [span('b', 50, 40, [], { is_error: true }), span('a', 10, 30, [span('a1', 12, 8)])]), span('r2', 5, 3)];

  it.each([
    ['display order is depth first, children and roots by start time', (w: ReturnType<typeof flattenSpans>) => w.rows.map((r) => `${r.depth}:${r.span.span_id}`), ['0:root', '1:a', '2:a1', '1:b', '0:r2']],
    ['subtree ends', (w: ReturnType<typeof flattenSpans>) => w.rows.map((r) => r.subtreeEnd), [4, 3, 3, 4, 5]],
    ['parents', (w: ReturnType<typeof flattenSpans>) => w.rows.map((r) => r.parent), [-1, 0, 1, 0, -1]],
    ['errors bubble up to ancestors only', (w: ReturnType<typeof flattenSpans>) => w.rows.map((r) => r.errorInSubtree), [true, false, false, true, false]],
    ['time range', (w: ReturnType<typeof flattenSpans>) => [w.startMs - T0, w.endMs - T0], [0, 100]],
  ])('%s', (_name, pick, expected) => {
    expect(pick(flattenSpans(tree))).toEqual(expected);
  });

  it('attaches critical-path segments to their spans (by trace and span id)', () => {
    const segs: CriticalSegment[] = [
      { trace_id: 't1', span_id: 'b', name: 'b', layer: 'api', component: 'svc', start_time: iso(60), offset_ms: 60, duration_ms: 30 },
      { trace_id: 'other', span_id: 'a', name: 'a', layer: 'api', component: 'svc', start_time: iso(10), offset_ms: 10, duration_ms: 5 },
      { trace_id: null, span_id: null, name: null, layer: null, component: null, start_time: iso(0), offset_ms: 0, duration_ms: 1 },
    ];
    const w = flattenSpans(tree, segs);
    const b = w.rows[w.byKey.get('t1:b')!]!;
    expect(b.critical.map(([s, e]) => [s - T0, e - T0])).toEqual([[60, 90]]);
    expect(w.rows[w.byKey.get('t1:a')!]!.critical).toEqual([]);
  });

  it('flattens a 10,000-deep chain without recursion', () => {
    let node = span('s9999', 9999, 1);
    for (let i = 9998; i >= 0; i--) node = span(`s${i}`, i, 10_000 - i, [node]);
    const w = flattenSpans([node]);
    expect(w.rows).toHaveLength(10_000);
    expect(w.rows[9999]!.depth).toBe(9999);
    expect(w.rows[0]!.subtreeEnd).toBe(10_000);
  });

  it('an empty workflow has no rows', () => {
    expect(flattenSpans([]).rows).toEqual([]);
  });
});

describe('visibleRows', () => {
  const w = flattenSpans([span('root', 0, 100, [span('a', 10, 30, [span('a1', 12, 8)]), span('b', 50, 40)])]);
  it.each([
    ['nothing collapsed', [], ['root', 'a', 'a1', 'b']],
    ['a collapsed hides its subtree', ['t1:a'], ['root', 'a', 'b']],
    ['root collapsed hides everything below', ['t1:root'], ['root']],
    ['a leaf collapsed changes nothing', ['t1:a1'], ['root', 'a', 'a1', 'b']],
  ])('%s', (_n, collapsed, ids) => {
    expect(visibleRows(w, new Set(collapsed)).map((i) => w.rows[i]!.span.span_id)).toEqual(ids);
  });
});

describe('geometry', () => {
  it.each([
    ['whole range', 0, 100, { left: 0, width: 1 }],
    ['second half', 50, 100, { left: 0.5, width: 0.5 }],
    ['a zero-length span keeps a minimum width', 30, 30, { left: 0.3, width: 0.002 }],
  ])('barGeometry: %s', (_n, s, e, expected) => {
    const g = barGeometry(T0 + s, T0 + e, { startMs: T0, endMs: T0 + 100 });
    expect(g.left).toBeCloseTo(expected.left);
    expect(g.width).toBeCloseTo(expected.width);
  });
  it.each([
    ['top', 0, [0, 20]],
    ['middle with overscan', 26 * 100, [90, 120]],
    ['end is clamped', 26 * 995, [985, 1000]],
  ])('windowRange: %s', (_n, top, expected) => {
    expect(windowRange(1000, 26, top, 260, 10)).toEqual(expected);
  });
  it('time ticks are round numbers covering the range', () => {
    expect(timeTicks(1000)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(timeTicks(0)).toEqual([0]);
  });
});
