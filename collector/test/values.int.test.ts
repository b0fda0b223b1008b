import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otlpJson, otlpProto, spanId, startCollector, traceId, type TestCollector } from './helpers.ts';
import { ExportTraceServiceResponse } from '../src/otlp.ts';

const JSON_CT = { 'content-type': 'application/json' };
const PROTO_CT = { 'content-type': 'application/x-protobuf' };
const LONG = 'é'.repeat(1000) + 'x'.repeat(2000); // ~4,000 bytes: past PostgreSQL's 2704-byte index row

/** Issue 13 (2): over-long indexed values and out-of-range times never reach an index as a 500. */
describe('values that cannot be indexed or dated', () => {
  let t: TestCollector;
  beforeAll(async () => {
    t = await startCollector('postgres', { FLOWSCOPE_MAX_ID_CHARS: '200', FLOWSCOPE_MAX_NAME_CHARS: '100' });
  });
  afterAll(async () => {
    await t.dispose();
  });
  const post = (body: ReturnType<typeof otlpJson>, proto = false) =>
    t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: proto ? PROTO_CT : JSON_CT, payload: proto ? otlpProto(body) : JSON.stringify(body) });
  const partial = (res: Awaited<ReturnType<typeof post>>, proto = false) =>
    proto
      ? ((ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(res.rawPayload), { longs: String }) as { partialSuccess?: unknown }).partialSuccess as
          | { rejectedSpans: string; errorMessage: string }
          | undefined)
      : (res.json() as { partialSuccess?: { rejectedSpans: string; errorMessage: string } }).partialSuccess;

  it.each([
    ['workflow.id', 'span'],
    ['workflow.type', 'span'],
    ['user.id', 'span'],
    ['workflow.type', 'resource'],
  ])('refuses a span whose %s (%s attribute) is longer than FLOWSCOPE_MAX_ID_CHARS, naming the field and the span', async (key, where) => {
    for (const proto of [false, true]) {
      const tid = traceId();
      const body = otlpJson(
        'svc',
        [
          { traceId: tid, spanId: spanId(1), attributes: where === 'span' ? { [key]: LONG } : {} },
          { traceId: tid, spanId: spanId(2), parentSpanId: spanId(1), attributes: { 'workflow.id': 'wf-ok' } },
        ],
        where === 'resource' ? { [key]: LONG } : {},
      );
      const res = await post(body, proto);
      expect(res.statusCode).toBe(200);
      const p = partial(res, proto);
      expect(p?.rejectedSpans).toBe(where === 'resource' ? '2' : '1');
      expect(p?.errorMessage).toContain(`attribute ${key} longer than 200 characters`);
      expect(p?.errorMessage).toContain(where === 'resource' ? `of trace ${tid}` : `span ${spanId(1)} of trace ${tid}`);
      const stored = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_steps WHERE trace_id = $1', [tid]);
      expect(stored[0]!.n).toBe(where === 'resource' ? 0 : 1);
    }
  });

  it('cuts an over-long service.name, span name and exception.type to FLOWSCOPE_MAX_NAME_CHARS and stores the span', async () => {
    const tid = traceId();
    const body = otlpJson(
      LONG,
      [
        {
          traceId: tid,
          spanId: spanId(1),
          name: LONG,
          status: { code: 2, message: 'boom' },
          attributes: { 'error.type': LONG },
          events: [{ name: 'exception', attributes: { 'exception.type': LONG, 'exception.message': 'bad' } }],
        },
      ],
    );
    const res = await post(body);
    expect(res.statusCode).toBe(200);
    expect(partial(res)).toBeUndefined();
    const [row] = await t.db.query<{ component: string; name: string }>('SELECT component, name FROM trace_steps WHERE trace_id = $1', [tid]);
    expect(row!.component).toHaveLength(100);
    expect(row!.component.endsWith('…')).toBe(true);
    expect(row!.name).toHaveLength(100);
    const types = await t.db.query<{ error_type: string }>('SELECT error_type FROM error_logs WHERE trace_id = $1 ORDER BY seq', [tid]);
    // one error row per failing span: the exception event is merged into the span's row
    expect(types.length).toBe(1);
    for (const r of types) expect(r.error_type.length).toBeLessThanOrEqual(100);
  });

  it.each([
    ['start time beyond JavaScript dates', { startTimeUnixNano: '99999999999999999999999999', endTimeUnixNano: '99999999999999999999999999' }, 'start or end time after year 9999'],
    ['end time after year 9999', { endTimeUnixNano: '253402300800000000000' }, 'start or end time after year 9999'],
    ['event time beyond JavaScript dates', { events: [{ name: 'e', timeUnixNano: '99999999999999999999999999', attributes: [] }] }, 'event time out of range'],
  ])('refuses a span with a %s as partial success naming the span; the others are stored', async (_name, patch, reason) => {
    const tid = traceId();
    const body = otlpJson('svc', [{ traceId: tid, spanId: spanId(1) }, { traceId: tid, spanId: spanId(2) }]);
    Object.assign(body.resourceSpans[0]!.scopeSpans[0]!.spans[1]!, patch);
    const res = await post(body);
    expect(res.statusCode).toBe(200);
    const p = partial(res);
    expect(p?.rejectedSpans).toBe('1');
    expect(p?.errorMessage).toContain(reason);
    expect(p?.errorMessage).toContain(`span ${spanId(2)} of trace ${tid}`);
    const stored = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_steps WHERE trace_id = $1', [tid]);
    expect(stored[0]!.n).toBe(1);
  });

  it('a value past the default limits (no configuration) is no 500 either', async () => {
    const d = await startCollector('postgres');
    try {
      for (const key of ['workflow.id', 'user.id', 'workflow.type']) {
        const attributes: Record<string, string> = { [key]: LONG };
        const res = await d.collector.app.inject({
          method: 'POST',
          url: '/v1/traces',
          headers: JSON_CT,
          payload: JSON.stringify(otlpJson(LONG, [{ traceId: traceId(), spanId: spanId(1), name: LONG, attributes }])),
        });
        expect(res.statusCode).toBe(200);
        expect(res.json().partialSuccess.rejectedSpans).toBe('1');
      }
    } finally {
      await d.dispose();
    }
  });
});
