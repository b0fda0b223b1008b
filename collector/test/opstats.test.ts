import { describe, expect, it } from 'vitest';
import { bucketIndex, withHourRows, type SpanRecord } from '@flowscope/storage';
import { deriveOperationDeltas, OperationCatalog, selfTimesMs } from '../src/opstats.ts';

const NS = 1_000_000n;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 10, 59, 59, 900); // 100 ms before a minute (and hour) boundary

function span(id: number, parent: number | null, fromMs: number, toMs: number, over: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: 'a'.repeat(32), spanId: id.toString(16).padStart(16, '0'), parentSpanId: parent === null ? null : parent.toString(16).padStart(16, '0'),
    workflowId: 'wf', workflowType: 'checkout', layer: 'service', component: 'orders', name: `op ${id}`, kind: 1, statusCode: 0,
    statusMessage: null, isError: false, startUnixNano: BigInt(T0) * NS + BigInt(Math.round(fromMs * 1e6)),
    endUnixNano: BigInt(T0) * NS + BigInt(Math.round(toMs * 1e6)), userId: null, scopeName: null, attributes: {}, resource: {}, events: [], links: [],
    ...over,
  };
}

describe('selfTimesMs', () => {
  it('is the duration minus the union of the children in the request, clipped to the span', () => {
    const spans = [
      span(1, null, 0, 100),
      span(2, 1, 10, 30),
      span(3, 1, 20, 50), // overlaps 2: the union counts once
      span(4, 1, 90, 120), // ends after its parent: clipped at 100
      span(5, 1, 0.0005, 0.0015), // sub-microsecond precision is kept
      span(6, 9, 0, 10), // parent not in the request: its own duration
      span(7, 1, 0, 100, { traceId: 'b'.repeat(32) }), // same parent id in another trace: not a child
    ];
    const self = selfTimesMs(spans);
    expect(self[0]).toBeCloseTo(100 - 40 - 10 - 0.001, 9);
    expect(self.slice(1)).toEqual([20, 30, 30, expect.closeTo(0.001, 9), 10, 100]);
    expect(selfTimesMs([])).toEqual([]);
  });

  it('a child covering its parent leaves no self time (never negative)', () => {
    expect(selfTimesMs([span(1, null, 0, 10), span(2, 1, -5, 20)])).toEqual([0, 25]);
  });
});

describe('deriveOperationDeltas', () => {
  it('counts every span in a minute row of its operation (hour rows summed from them); histograms hold successful spans only', () => {
    const catalog = new OperationCatalog(10);
    const spans = [
      span(1, null, 0, 50, { name: 'GET /orders/8812' }),
      span(2, 1, 10, 20, { name: 'SELECT * FROM orders WHERE id = 42', layer: 'database' }),
      span(3, null, 200, 212, { name: 'GET /orders/9', spanId: 'c'.repeat(16) }), // next minute and next hour, same operation
      span(4, null, 0, 80, { name: 'GET /orders/7', isError: true, statusCode: 2 }),
    ];
    const minutes = deriveOperationDeltas(spans, catalog);
    expect(minutes.every((d) => d.bucketSeconds === 60)).toBe(true);
    expect(minutes).toHaveLength(3); // GET /orders/{id} in 2 minutes, the SELECT in 1
    const deltas = withHourRows(minutes);
    const get = (operation: string, bucketSeconds: number, bucketStartMs: number) =>
      deltas.find((d) => d.operation === operation && d.bucketSeconds === bucketSeconds && d.bucketStartMs === bucketStartMs);
    const minute = Math.floor(T0 / 60_000) * 60_000;
    const hour = Math.floor(T0 / HOUR) * HOUR;
    expect(deltas).toHaveLength(6); // GET /orders/{id} in 2 minutes + 2 hours, the SELECT in 1 + 1
    const first = get('GET /orders/{id}', 60, minute)!;
    expect(first).toMatchObject({ workflowType: 'checkout', layer: 'service', component: 'orders', count: 2, errorCount: 1, min: 50, max: 80, sum: 130 });
    expect(first.selfSum).toBeCloseTo(40 + 80, 6);
    expect(first.buckets.reduce((a, b) => a + b, 0)).toBe(1); // the failed run is counted, not in the histogram
    expect(first.buckets[bucketIndex(50)]).toBe(1);
    expect(first.selfBuckets[bucketIndex(40)]).toBe(1);
    expect(get('GET /orders/{id}', 60, minute + 60_000)).toMatchObject({ count: 1, sum: 12 });
    expect(get('GET /orders/{id}', 3600, hour)).toMatchObject({ count: 2 });
    expect(get('GET /orders/{id}', 3600, hour + HOUR)).toMatchObject({ count: 1 });
    expect(get('SELECT * FROM orders WHERE id = ?', 3600, hour)).toMatchObject({ layer: 'database', count: 1, sum: 10 });
    // every span once per resolution
    for (const res of [60, 3600]) expect(deltas.filter((d) => d.bucketSeconds === res).reduce((n, d) => n + d.count, 0)).toBe(spans.length);
  });
});

describe('OperationCatalog (FLOWSCOPE_BASELINE_MAX_OPERATIONS)', () => {
  it('admits the first maxPerService operations of each service; later ones are `other`', () => {
    const c = new OperationCatalog(2);
    expect(c.operationOf('orders', 'GET /a')).toBe('GET /a');
    expect(c.operationOf('orders', 'GET /orders/123')).toBe('GET /orders/{id}');
    expect(c.operationOf('orders', 'GET /orders/456')).toBe('GET /orders/{id}'); // same key: not a new operation
    expect(c.operationOf('orders', 'GET /b')).toBe('other'); // the third: past the cap
    expect(c.operationOf('orders', 'GET /a')).toBe('GET /a'); // admitted ones stay
    expect(c.operationOf('payments', 'GET /b')).toBe('GET /b'); // per service
  });
});
