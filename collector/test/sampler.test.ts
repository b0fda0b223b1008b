import { describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import type { SpanRecord } from '@flowscope/storage';
import { keepByRate, TailSampler } from '../src/sampler.ts';
import { collectorConfigShape } from '../src/config.ts';

const span = (traceId: string, over: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId,
  spanId: '0000000000000001',
  parentSpanId: null,
  workflowId: traceId,
  workflowType: 'search',
  layer: 'api',
  component: 'svc',
  name: 'op',
  kind: 2,
  statusCode: 0,
  statusMessage: null,
  isError: false,
  startUnixNano: 1_000_000_000n,
  endUnixNano: 1_010_000_000n, // 10 ms
  userId: null,
  scopeName: null,
  attributes: {},
  resource: {},
  events: [],
  links: [],
  ...over,
});

const trace = (i: number) => i.toString(16).padStart(32, '0');

function sampler(over: Partial<ConstructorParameters<typeof TailSampler>[0]> = {}) {
  let now = 0;
  const s = new TailSampler({
    rate: 0,
    rates: new Map(),
    criticalMs: (layer) => (layer === 'database' ? 100 : 500),
    decisionWaitMs: 1000,
    maxHeldSpans: 100,
    maxHeldBytes: 1 << 20,
    now: () => now,
    ...over,
  });
  return { s, advance: (ms: number) => (now += ms) };
}

describe('TailSampler', () => {
  it.each([
    ['an error span', { isError: true, statusCode: 2 }, 'error'],
    ['an api span over 500 ms', { endUnixNano: 1_000_000_000n + 501_000_000n }, 'slow'],
    ['a database span over 100 ms', { layer: 'database', endUnixNano: 1_000_000_000n + 101_000_000n }, 'slow'],
  ])('keeps a trace with %s at rate 0', (_name, over, reason) => {
    const { s } = sampler();
    const r = s.sample([span(trace(1), over as Partial<SpanRecord>)], []);
    expect(r.keep.spans).toHaveLength(1);
    expect(r.reasons.get(reason as 'error' | 'slow')).toBe(1);
    expect(r.interesting).toEqual([trace(1)]);
  });

  it('a database span of 100 ms exactly is not over the threshold; held instead', () => {
    const { s } = sampler();
    const r = s.sample([span(trace(2), { layer: 'database', endUnixNano: 1_000_000_000n + 100_000_000n })], []);
    expect(r.keep.spans).toHaveLength(0);
    expect(r.held).toBe(1);
  });

  it('per-workflow-type rates override the default', () => {
    const { s } = sampler({ rate: 0, rates: new Map([['checkout', 1], ['healthcheck', 0]]) });
    expect(s.sample([span(trace(3), { workflowType: 'checkout' })], []).keep.spans).toHaveLength(1);
    expect(s.sample([span(trace(4), { workflowType: 'healthcheck' })], []).keep.spans).toHaveLength(0);
    expect(s.rateFor('other')).toBe(0);
  });

  it('held spans expire after the decision window and are counted; a later error keeps only what is still held', () => {
    const { s, advance } = sampler();
    const released: number[] = [];
    s.onReleased = (n) => released.push(n);
    s.sample([span(trace(5))], []);
    advance(999);
    expect(s.expire()).toBe(0);
    advance(2);
    expect(s.expire()).toBe(1);
    expect(released).toEqual([1]);
    const late = s.sample([span(trace(5), { spanId: '0000000000000002', isError: true })], []);
    expect(late.rescued).toBe(0);
    expect(late.keep.spans).toHaveLength(1);
  });

  it('a keep decision from another replica releases the held spans of that trace, and later spans are kept', () => {
    const { s } = sampler();
    s.sample([span(trace(6)), span(trace(6), { spanId: '0000000000000002' })], []);
    expect(s.markKeep(trace(6))?.spans).toHaveLength(2);
    expect(s.heldSpanCount).toBe(0);
    const later = s.sample([span(trace(6), { spanId: '0000000000000003' })], []);
    expect(later.reasons.get('decided')).toBe(1);
  });

  it('keepByRate is a pure function of the trace id, and roughly fair', () => {
    let kept = 0;
    for (let i = 0; i < 10_000; i++) {
      const k = keepByRate(trace(i), 0.25);
      expect(keepByRate(trace(i), 0.25)).toBe(k);
      if (k) kept++;
    }
    expect(kept).toBeGreaterThan(2300);
    expect(kept).toBeLessThan(2700);
    expect(keepByRate(trace(1), 0)).toBe(false);
    expect(keepByRate(trace(1), 1)).toBe(true);
  });
});

describe('sampling configuration', () => {
  it('parses per-type rates and refuses a rate outside 0..1, naming the variable', () => {
    const ok = parseConfig(collectorConfigShape, { FLOWSCOPE_SAMPLING_RATES: 'checkout=1, healthcheck=0,search=0.5' });
    expect([...ok.FLOWSCOPE_SAMPLING_RATES]).toEqual([
      ['checkout', 1],
      ['healthcheck', 0],
      ['search', 0.5],
    ]);
    expect(ok.DEBUGGING_TRACE_SAMPLING_RATE).toBe(0.1);
    expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_SAMPLING_RATES: 'checkout=2' })).toThrow(/FLOWSCOPE_SAMPLING_RATES: expected workflowType=rate/);
  });
});

describe('TraceWorkflowCache', () => {
  it('remembers a trace’s workflow for later requests, bounded to its size (least recently used first out)', async () => {
    const { TraceWorkflowCache } = await import('../src/map.ts');
    const c = new TraceWorkflowCache(2);
    c.learn('t1', 'wf-1', 'checkout');
    c.learn('t2', undefined, 'login');
    expect(c.get('t1')).toEqual({ id: 'wf-1', type: 'checkout' }); // t1 now most recent
    c.learn('t3', 'wf-3', undefined);
    expect(c.size).toBe(2);
    expect(c.get('t2')).toBeUndefined();
    expect(c.get('t1')?.id).toBe('wf-1');
    // The first value learned wins; later requests do not overwrite it.
    c.learn('t1', 'wf-other', 'other');
    expect(c.get('t1')).toEqual({ id: 'wf-1', type: 'checkout' });
  });
});
