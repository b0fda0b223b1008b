import { describe, expect, it } from 'vitest';
import { decodeExport } from '../src/decode.ts';
import { validateExport, spanProblem } from '../src/validate.ts';
import { Redactor, REDACTED } from '../src/redact.ts';
import { inferLayer, mapExport } from '../src/map.ts';
import type { DecodedSpan } from '../src/model.ts';
import { otlpJson, otlpProto, spanId } from './helpers.ts';
import { decodedSpan, request, T } from './chain-helpers.ts';

describe('decode', () => {
  it('protobuf and JSON of the same request decode to the same spans', () => {
    const json = otlpJson('svc', [{ traceId: T, spanId: spanId(1), attributes: { s: 'x', i: 7, d: 1.5, b: true }, status: { code: 2, message: 'm' } }]);
    const fromJson = decodeExport(Buffer.from(JSON.stringify(json)), 'json');
    const fromProto = decodeExport(otlpProto(json), 'protobuf');
    expect(fromProto).toEqual(fromJson);
    expect(fromJson.resourceSpans[0]!.scopeSpans[0]!.spans[0]).toMatchObject({
      traceId: T,
      attributes: { s: 'x', i: 7, d: 1.5, b: true },
      statusCode: 2,
      statusMessage: 'm',
    });
  });

  it.each([
    ['snake_case keys', { resource_spans: [{ scope_spans: [{ spans: [{ trace_id: T, span_id: spanId(1), start_time_unix_nano: '5', end_time_unix_nano: 6 }] }] }] }, { startUnixNano: 5n, endUnixNano: 6n }],
    ['enum names', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: T, spanId: spanId(1), kind: 'SPAN_KIND_SERVER', status: { code: 'STATUS_CODE_ERROR' } }] }] }] }, { kind: 2, statusCode: 2 }],
    ['upper-case hex ids', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: T.toUpperCase(), spanId: 'ABCDEF0123456789' }] }] }] }, { traceId: T, spanId: 'abcdef0123456789' }],
    ['arrays and key-value lists', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: T, spanId: spanId(1), attributes: [{ key: 'a', value: { arrayValue: { values: [{ intValue: '1' }, { stringValue: 'x' }] } } }, { key: 'k', value: { kvlistValue: { values: [{ key: 'n', value: { boolValue: false } }] } } }] }] }] }] }, { attributes: { a: [1, 'x'], k: { n: false } } }],
    ['a 64-bit integer past 2^53 kept exact as a string', { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: T, spanId: spanId(1), attributes: [{ key: 'big', value: { intValue: '9007199254740993' } }] }] }] }] }, { attributes: { big: '9007199254740993' } }],
  ])('JSON: %s', (_name, body, expected) => {
    const d = decodeExport(Buffer.from(JSON.stringify(body)), 'json');
    expect(d.resourceSpans[0]!.scopeSpans[0]!.spans[0]).toMatchObject(expected);
  });

  it.each([
    ['not JSON', '{', 'json', /cannot parse JSON/],
    ['a JSON array', '[]', 'json', /must be an ExportTraceServiceRequest object/],
    ['a non-integer timestamp', JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 'soon' }] }] }] }), 'json', /expected an integer/],
    ['truncated protobuf', Buffer.from([0x0a, 0x05, 0x01]), 'protobuf', /cannot decode protobuf/],
  ] as const)('refuses %s with a 400', (_name, body, encoding, message) => {
    expect(() => decodeExport(Buffer.from(body), encoding)).toThrow(message);
    try {
      decodeExport(Buffer.from(body), encoding);
    } catch (err) {
      expect((err as { statusCode: number }).statusCode).toBe(400);
    }
  });
});

describe('validate', () => {
  it.each([
    ['a valid span', {}, undefined],
    ['a short trace id', { traceId: 'ab' }, /invalid trace id/],
    ['an all-zero trace id', { traceId: '0'.repeat(32) }, /invalid trace id/],
    ['a 9-byte span id', { spanId: 'ab'.repeat(9) }, /invalid span id/],
    ['an all-zero span id', { spanId: '0'.repeat(16) }, /invalid span id/],
    ['a bad parent id', { parentSpanId: 'xyz' }, /invalid parent span id/],
    ['no start time', { startUnixNano: 0n }, /missing start time/],
    ['end before start', { endUnixNano: 999_999_999n }, /end time before start time/],
    ['a zero-length span', { endUnixNano: 1_000_000_000n }, undefined],
  ])('%s', (_name, over, problem) => {
    const p = spanProblem(decodedSpan(over as Partial<DecodedSpan>));
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(problem);
  });

  it('an all-zero parent id means no parent; counts and reasons are summed per kind', () => {
    const r = validateExport(request([decodedSpan({ parentSpanId: '0'.repeat(16) }), decodedSpan({ spanId: 'ab' }), decodedSpan({ spanId: 'cd' })]));
    expect(r.rejected).toBe(2);
    expect(r.message).toMatch(/^2 span\(s\): invalid span id \(need 8 non-zero bytes\) \(first: span ab of trace [0-9a-f]{32}\)$/);
    expect(r.valid.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.parentSpanId).toBe('');
  });
});

describe('redact', () => {
  const redactor = new Redactor();
  it.each([
    ['password', true],
    ['db.password', true],
    ['http.request.header.authorization', true],
    ['http.request.header.cookie', true],
    ['x-api-key', true],
    ['aws_secret_access_key', true],
    ['session_token', true],
    ['client.secret', true],
    ['privateKey', true],
    ['user.email', false],
    ['http.route', false],
    ['workflow.id', false],
    ['monkey', false],
  ])('%s → secret: %s', (key, secret) => {
    expect(redactor.isSecret(key)).toBe(secret);
  });

  it('replaces values at any depth, in events and links too, and counts them', () => {
    const span = decodedSpan({
      attributes: { nested: { token: 't', ok: 1 }, list: [{ password: 'p' }] },
      events: [{ name: 'e', timeUnixNano: 1n, attributes: { cookie: 'c' } }],
      links: [{ traceId: T, spanId: spanId(2), attributes: { api_key: 'k' } }],
    });
    const req = request([span], { 'service.name': 'svc', 'db.password': 'x' });
    expect(redactor.export(req)).toBe(5);
    expect(span.attributes).toEqual({ nested: { token: REDACTED, ok: 1 }, list: [{ password: REDACTED }] });
    expect(span.events[0]!.attributes.cookie).toBe(REDACTED);
    expect(span.links[0]!.attributes.api_key).toBe(REDACTED);
  });

  it('takes a configured list', () => {
    const custom = new Redactor(['ssn']);
    expect(custom.isSecret('user.ssn')).toBe(true);
    expect(custom.isSecret('password')).toBe(false);
  });
});

describe('map', () => {
  it.each([
    ['app.layer wins', { attributes: { 'app.layer': 'queue', 'db.system': 'postgresql' } }, {}, 'queue'],
    ['an unknown app.layer is ignored', { attributes: { 'app.layer': 'mainframe' } }, {}, 'service'],
    ['db.system → database', { attributes: { 'db.system': 'postgresql' } }, {}, 'database'],
    ['db.system.name (new semconv) → database', { attributes: { 'db.system.name': 'mysql' } }, {}, 'database'],
    ['redis → cache', { attributes: { 'db.system': 'redis' } }, {}, 'cache'],
    ['messaging → queue', { attributes: { 'messaging.system': 'kafka' } }, {}, 'queue'],
    ['browser SDK → frontend', {}, { 'telemetry.sdk.language': 'webjs' }, 'frontend'],
    ['SERVER http → api', { kind: 2, attributes: { 'http.request.method': 'GET' } }, {}, 'api'],
    ['CLIENT http → external', { kind: 3, attributes: { 'url.full': 'https://x' } }, {}, 'external'],
    ['INTERNAL http → service', { kind: 1, attributes: { 'http.method': 'GET' } }, {}, 'service'],
    ['nothing → service', {}, {}, 'service'],
  ])('layer: %s', (_name, over, resource, layer) => {
    expect(inferLayer(decodedSpan(over as Partial<DecodedSpan>), resource)).toBe(layer);
  });

  it.each([
    ['workflow.id', { 'workflow.id': 'w1', correlation_id: 'c1' }, 'w1'],
    ['correlation_id', { correlation_id: 'c1' }, 'c1'],
    ['the x-correlation-id header attribute', { 'http.request.header.x-correlation-id': ['h1'] }, 'h1'],
    ['the trace id', {}, T],
  ])('workflow id falls back to %s', (_name, attributes, expected) => {
    const m = mapExport(request([decodedSpan({ attributes })]));
    expect(m.spans[0]!.workflowId).toBe(expected);
  });

  it('untagged spans inherit the workflow type and id of their trace; user from enduser.id or user.id', () => {
    const m = mapExport(
      request([
        decodedSpan({ spanId: spanId(1), attributes: { 'enduser.id': 'u1' } }),
        decodedSpan({ spanId: spanId(2), attributes: { 'workflow.type': 'checkout', 'workflow.id': 'o-1', 'user.id': 'u2' } }),
      ]),
    );
    expect(m.spans.map((s) => [s.workflowType, s.workflowId, s.userId])).toEqual([
      ['checkout', 'o-1', 'u1'],
      ['checkout', 'o-1', 'u2'],
    ]);
  });

  it('a failing span is one error record with its exception merged in; a handled exception is a warning', () => {
    const exception = { name: 'exception', timeUnixNano: 1_500_000_000n, attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'slow', 'exception.stacktrace': 'at x' } };
    const m = mapExport(
      request([
        decodedSpan({ spanId: spanId(1), statusCode: 2, statusMessage: 'short', events: [exception] }),
        decodedSpan({ spanId: spanId(2), events: [exception] }),
        decodedSpan({ spanId: spanId(3), statusCode: 2, statusMessage: 'only the status' }),
      ]),
    );
    // the thrown exception's message wins over the (often shortened) status message
    expect(m.errors.map((e) => [e.spanId, e.seq, e.severity, e.errorType, e.message])).toEqual([
      [spanId(1), 0, 'error', 'TimeoutError', 'slow'],
      [spanId(2), 1, 'warning', 'TimeoutError', 'slow'],
      [spanId(3), 0, 'error', 'Error', 'only the status'],
    ]);
    expect(m.errors[0]!.stack).toBe('at x');
  });
});
