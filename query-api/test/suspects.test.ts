import { describe, expect, it } from 'vitest';
import { normalizeOperation } from '@flowscope/storage';
import { buildTree, criticalPath, findSuspects, type BaselineLookup, type SuspectSpanInput } from '../src/index.ts';

const ms = 1000;
type Opt = Partial<SuspectSpanInput>;
const sp = (id: string, parent: string | null, start: number, end: number, o: Opt = {}): SuspectSpanInput => ({
  trace_id: 't1', span_id: id, parent_span_id: parent, name: id, layer: 'service', component: 'svc', start_us: start, end_us: end,
  workflow_type: 'checkout', kind: 1, is_error: false, status_message: null, attributes: {}, events: [], ...o,
});
const path = (spans: SuspectSpanInput[], tol?: number) =>
  criticalPath(buildTree(spans), tol).map((p) => [p.span_id, p.start_us, p.end_us]);

describe('critical path with clock rounding', () => {
  it.each([
    {
      name: 'a db span ending 57 µs after its next sibling started stays on the path',
      spans: [sp('root', null, 0, 20_000), sp('db', 'root', 0, 10_057), sp('next', 'root', 10_000, 20_000)],
      tol: undefined,
      want: [['db', 0, 10_000], ['next', 10_000, 20_000]],
    },
    {
      name: 'without tolerance (Jaeger as is) the same db span drops out and the root is blamed',
      spans: [sp('root', null, 0, 20_000), sp('db', 'root', 0, 10_057), sp('next', 'root', 10_000, 20_000)],
      tol: 0,
      want: [['root', 0, 10_000], ['next', 10_000, 20_000]],
    },
    {
      name: 'an overlap beyond the tolerance is real parallelism: the earlier child is off the path',
      spans: [sp('root', null, 0, 20_000), sp('a', 'root', 0, 15_000), sp('b', 'root', 10_000, 20_000)],
      tol: 1000,
      want: [['root', 0, 10_000], ['b', 10_000, 20_000]],
    },
    {
      name: 'parallel children: the last to finish is on the path, then what ran before it started',
      spans: [sp('root', null, 0, 30_000), sp('a', 'root', 1_000, 9_000), sp('b', 'root', 10_000, 29_000), sp('c', 'root', 10_000, 20_000)],
      tol: 1000,
      want: [['root', 0, 1_000], ['a', 1_000, 9_000], ['root', 9_000, 10_000], ['b', 10_000, 29_000], ['root', 29_000, 30_000]],
    },
    {
      name: 'a child overrunning its parent end by less than the tolerance is clipped, not dropped',
      spans: [sp('root', null, 0, 10_000), sp('c', 'root', 5_000, 10_400)],
      tol: 1000,
      want: [['root', 0, 5_000], ['c', 5_000, 10_000]],
    },
  ])('$name', ({ spans, tol, want }) => {
    expect(path(spans, tol)).toEqual(want);
  });
});

const none: BaselineLookup = () => undefined;
const suspects = (spans: SuspectSpanInput[], lookup: BaselineLookup = none) => {
  const roots = buildTree(spans);
  return findSuspects(roots, criticalPath(roots), lookup);
};

describe('error origin', () => {
  it.each([
    {
      name: 'an error propagated through two ancestors is blamed on the span where it started',
      spans: [
        sp('root', null, 0, 100 * ms, { is_error: true, layer: 'api' }),
        sp('svc', 'root', 10 * ms, 90 * ms, { is_error: true }),
        sp('db', 'svc', 20 * ms, 30 * ms, { is_error: true, layer: 'database', status_message: 'duplicate key', attributes: { 'error.type': 'UniqueViolation' } }),
      ],
      want: [['db', 'error', 'UniqueViolation', 'duplicate key']],
    },
    {
      name: 'two independent origins are both listed, ancestors are not',
      spans: [
        sp('root', null, 0, 100 * ms, { is_error: true }),
        sp('a', 'root', 10 * ms, 20 * ms, { is_error: true, status_message: 'boom' }),
        sp('b', 'root', 30 * ms, 90 * ms, { is_error: true, status_message: 'bang' }),
      ],
      want: [['b', 'error', null, 'bang'], ['a', 'error', null, 'boom']],
    },
    {
      name: 'exception event type and message are used when the status has none',
      spans: [sp('root', null, 0, 10 * ms, { is_error: true, events: [{ name: 'exception', attributes: { 'exception.type': 'TypeError', 'exception.message': 'x is undefined' } }] })],
      want: [['root', 'error', 'TypeError', 'x is undefined']],
    },
    {
      name: 'a failing child under a succeeding parent (handled) is still an origin',
      spans: [sp('root', null, 0, 10 * ms), sp('cache', 'root', 1 * ms, 2 * ms, { is_error: true, status_message: 'miss' })],
      want: [['cache', 'error', null, 'miss']],
    },
  ])('$name', ({ spans, want }) => {
    const got = suspects(spans).filter((s) => s.reason !== 'slow');
    expect(got.map((s) => [s.span_id, s.reason, s.error_type, s.error_message])).toEqual(want);
  });
});

describe('timeouts', () => {
  const CLIENT = 3;
  const SERVER = 2;
  it.each([
    {
      name: 'timeout in the error message',
      spans: [sp('root', null, 0, 1000 * ms, { is_error: true }), sp('db', 'root', 0, 999 * ms, { is_error: true, kind: CLIENT, status_message: 'canceling statement due to statement timeout', attributes: { 'db.system': 'postgresql' } })],
      want: ['db', 'postgresql'],
    },
    {
      name: 'a failing client span whose server span is missing (no response) waits on the peer it names',
      spans: [sp('root', null, 0, 1000 * ms, { is_error: true }), sp('call', 'root', 0, 999 * ms, { is_error: true, kind: CLIENT, status_message: 'socket hang up', attributes: { 'server.address': 'inventory' } })],
      want: ['call', 'inventory'],
    },
    {
      name: 'a failing client span whose server side ended early names the server component',
      spans: [
        sp('root', null, 0, 1000 * ms, { is_error: true }),
        sp('call', 'root', 0, 999 * ms, { is_error: true, kind: CLIENT, status_message: 'aborted' }),
        sp('server', 'call', 10 * ms, 100 * ms, { kind: SERVER, component: 'payments' }),
      ],
      want: ['call', 'payments'],
    },
  ])('$name', ({ spans, want }) => {
    const [top] = suspects(spans);
    expect([top!.span_id, top!.downstream]).toEqual(want);
    expect(top!.reason).toBe('timeout');
    expect(top!.summary).toContain(want[1]!);
  });

  it('a failing database client (no server side to wait for) is an error, not a timeout', () => {
    const [top] = suspects([sp('db', null, 0, 10 * ms, { is_error: true, kind: CLIENT, layer: 'database', status_message: 'deadlock detected' })]);
    expect(top!.reason).toBe('error');
  });

  it.each(['card gateway answered 502 Bad Gateway', 'upstream returned status code 503', 'HTTP 500 from payments', '429 Too Many Requests'])(
    'a failing remote call whose message reports an answer (%s) is an error, not a timeout',
    (message) => {
      const [top] = suspects([sp('call', null, 0, 10 * ms, { is_error: true, kind: CLIENT, status_message: message, attributes: { 'peer.service': 'card-gateway' } })]);
      expect(top!.reason).toBe('error');
    },
  );

  it('a remote call that says it timed out stays a timeout even with a status code (504 Gateway Timeout)', () => {
    const [top] = suspects([sp('call', null, 0, 10 * ms, { is_error: true, kind: CLIENT, status_message: 'HTTP 504 Gateway Timeout', attributes: { 'peer.service': 'card-gateway' } })]);
    expect(top!.reason).toBe('timeout');
  });

  it('a failing client span that got a response is an error, not a timeout', () => {
    const [top] = suspects([sp('call', null, 0, 10 * ms, { is_error: true, kind: CLIENT, status_message: '502', attributes: { 'http.response.status_code': 502 } })]);
    expect(top!.reason).toBe('error');
  });
});

describe('slowness against baselines', () => {
  const base: Record<string, { p50_ms: number; p95_ms: number; count: number }> = {
    root: { p50_ms: 200, p95_ms: 230, count: 100 },
    svc: { p50_ms: 190, p95_ms: 220, count: 100 },
    insert: { p50_ms: 3, p95_ms: 4, count: 100 },
    pay: { p50_ms: 120, p95_ms: 140, count: 100 },
  };
  const lookup: BaselineLookup = (_t, _l, _c, op) => base[op];
  it('a 90 ms INSERT (usually 3 ms) beats the normal 120 ms payment call', () => {
    const spans = [
      sp('root', null, 0, 290 * ms),
      sp('svc', 'root', 1 * ms, 289 * ms),
      sp('insert', 'svc', 2 * ms, 92 * ms, { layer: 'database' }),
      sp('pay', 'svc', 92 * ms, 222 * ms, { layer: 'external' }),
    ];
    const [top, ...rest] = suspects(spans, lookup);
    expect(top).toMatchObject({ span_id: 'insert', reason: 'slow', on_critical_path: true, baseline_p50_ms: 3, ratio: 30 });
    expect(top!.excess_ms).toBeCloseTo(87, 0);
    expect(top!.summary).toMatch(/30\.0× its usual 3\.00 ms/);
    // the ancestors' excess is the insert's: they are not suspects
    expect(rest.map((s) => s.span_id)).not.toContain('svc');
  });

  it('with no baseline the span with most self time on the critical path is named, and the summary says so', () => {
    const [top] = suspects([sp('root', null, 0, 100 * ms), sp('new', 'root', 10 * ms, 90 * ms)]);
    expect(top).toMatchObject({ span_id: 'new', reason: 'slow', baseline_p50_ms: null, ratio: null });
    expect(top!.summary).toMatch(/no baseline/);
  });

  it('a span within its usual range is not a suspect', () => {
    expect(suspects([sp('insert', null, 0, 3.5 * ms)], lookup)).toEqual([]);
  });
});

describe('operation names', () => {
  it.each([
    ['GET /orders/8812/items', 'GET /orders/{id}/items'],
    ['GET /users/3f2b9c1e-7d4a-4b8e-9f00-1a2b3c4d5e6f', 'GET /users/{uuid}'],
    ["SELECT * FROM orders WHERE id = 42 AND status = 'paid'", 'SELECT * FROM orders WHERE id = ? AND status = ?'],
    ['SELECT * FROM t WHERE id IN (1, 2, 3)', 'SELECT * FROM t WHERE id IN (?)'],
    ['INSERT shop.orders', 'INSERT shop.orders'],
    ['GET /api/v2/cart', 'GET /api/v2/cart'],
  ])('%s → %s', (name, want) => expect(normalizeOperation(name)).toBe(want));
});
