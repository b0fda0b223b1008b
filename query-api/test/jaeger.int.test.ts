import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { parseGoDuration } from '../src/index.ts';
import { BASE, T1, T2, T4, auth, loadDataset, makeApp, makeTokens, sid, type Tokens } from './helpers.ts';
import { expectEnvelope, expectJaegerTraceShape } from './jaeger-shape.ts';

const FIXTURES = new URL('./fixtures/jaeger/', import.meta.url);
const us = (ms: number) => ms * 1000;
const range = `start=${us(BASE - 60_000)}&end=${us(BASE + 3_600_000)}`;

/**
 * Saved expected responses. Run with UPDATE_FIXTURES=1 to rewrite them after an intended
 * change, and review the diff: these files are the contract with Grafana's Jaeger data source.
 */
function expectFixture(name: string, actual: unknown) {
  const file = new URL(`${name}.json`, FIXTURES);
  const text = `${JSON.stringify(actual, null, 2)}\n`;
  if (process.env.UPDATE_FIXTURES === '1' || !existsSync(file)) writeFileSync(file, text);
  expect(JSON.parse(text)).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

describe('Jaeger-compatible API (the JSON Grafana reads)', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let tokens: Tokens;
  const get = async (url: string) => {
    const res = await app.inject({ url: `/jaeger${url}`, headers: auth(tokens.viewer) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> & { data: unknown } };
  };

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    await loadDataset(db);
    tokens = await makeTokens(db);
    app = await makeApp(db);
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it('services', async () => {
    const { status, body } = await get('/api/services');
    expect(status).toBe(200);
    expectEnvelope(body);
    expectFixture('services', body);
    expect(body.data).toEqual(['api-gateway', 'auth-service', 'cart-service', 'payment-service', 'postgres', 'redis', 'stripe']);
  });

  it('operations (both forms)', async () => {
    const a = await get('/api/services/postgres/operations');
    expectEnvelope(a.body);
    expectFixture('services-postgres-operations', a.body);
    expect(a.body.data).toEqual(['INSERT order', 'INSERT payment', 'SELECT inventory']);
    const b = await get('/api/operations?service=api-gateway');
    expectFixture('operations-api-gateway', b.body);
    expect(b.body.data).toEqual([
      { name: 'GET /search', spanKind: 'server' },
      { name: 'POST /checkout', spanKind: 'server' },
    ]);
    expect((await get('/api/operations?service=api-gateway&spanKind=client')).body.data).toEqual([]);
    expect((await get('/api/services/nope/operations')).body.data).toEqual([]);
  });

  it('trace by id: ids in hex, µs times, CHILD_OF references, process map, typed tags, logs from events', async () => {
    const { status, body } = await get(`/api/traces/${T1}`);
    expect(status).toBe(200);
    expectEnvelope(body);
    expectFixture('trace-checkout', body);
    const [trace] = body.data as Record<string, unknown>[];
    expectJaegerTraceShape(trace!);
    const spans = (trace!.spans as Record<string, unknown>[]);
    const root = spans.find((s) => s.spanID === sid(1))!;
    expect(root).toMatchObject({ operationName: 'POST /checkout', startTime: us(BASE), duration: 100_000, references: [], processID: 'p1' });
    expect(root.tags).toEqual(expect.arrayContaining([
      { key: 'http.status_code', type: 'int64', value: 200 },
      { key: 'sample.ratio', type: 'float64', value: 0.5 },
      { key: 'cache.hit', type: 'bool', value: false },
      { key: 'tags.list', type: 'string', value: '["a","b"]' },
      { key: 'span.kind', type: 'string', value: 'server' },
      { key: 'otel.status_code', type: 'string', value: 'OK' },
      { key: 'otel.scope.name', type: 'string', value: '@shop/http' },
      { key: 'workflow.type', type: 'string', value: 'checkout' },
      { key: 'app.layer', type: 'string', value: 'api' },
    ]));
    const stripe = spans.find((s) => s.spanID === sid(7))!;
    expect(stripe.references).toEqual([
      { refType: 'CHILD_OF', traceID: T1, spanID: sid(5) },
      { refType: 'FOLLOWS_FROM', traceID: T4, spanID: sid(41) },
    ]);
    expect(stripe.logs).toEqual([
      { timestamp: us(BASE + 60) + 123, fields: [
        { key: 'event', type: 'string', value: 'retry' },
        { key: 'attempt', type: 'int64', value: 2 },
        { key: 'reason', type: 'string', value: 'timeout' },
      ] },
    ]);
    const processes = trace!.processes as Record<string, { serviceName: string; tags: unknown[] }>;
    expect(processes.p1).toEqual({
      serviceName: 'api-gateway',
      tags: [
        { key: 'deployment.environment', type: 'string', value: 'test' },
        { key: 'service.version', type: 'string', value: '1.2.3' },
      ],
    });
    expect(Object.values(processes).map((p) => p.serviceName)).toEqual(['api-gateway', 'cart-service', 'redis', 'postgres', 'payment-service', 'stripe']);
  });

  it('an error span carries error=true and the status description', async () => {
    const { body } = await get(`/api/traces/${T2}`);
    const spans = (body.data as { spans: { spanID: string; tags: unknown[] }[] }[])[0]!.spans;
    expect(spans.find((s) => s.spanID === sid(22))!.tags).toEqual(expect.arrayContaining([
      { key: 'error', type: 'bool', value: true },
      { key: 'otel.status_code', type: 'string', value: 'ERROR' },
      { key: 'otel.status_description', type: 'string', value: 'deadlock detected' },
    ]));
  });

  it('trace ids: short ids are left-padded, unknown is 404 and bad is 400 in the Jaeger error envelope', async () => {
    expect((await get(`/api/traces/${T1.replace(/^0+/, '')}`)).status).toBe(200);
    const missing = await get(`/api/traces/${'e'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code: 404, msg: 'trace not found' }] });
    const bad = await get('/api/traces/not-hex');
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { code: number }[])[0]!.code).toBe(400);
  });

  it.each([
    ['service=api-gateway', [T4, T2, T1]],
    ['service=api-gateway&operation=POST%20%2Fcheckout', [T2, T1]],
    [`service=api-gateway&tags=${encodeURIComponent('{"workflow.type":"checkout"}')}`, [T2, T1]],
    [`service=api-gateway&tags=${encodeURIComponent('{"workflow.id":"wf-checkout-1"}')}`, [T1]],
    [`service=postgres&tags=${encodeURIComponent('{"error":"true"}')}`, [T2]],
    [`service=api-gateway&tags=${encodeURIComponent('{"http.status_code":"200"}')}`, [T1]],
    [`service=api-gateway&tags=${encodeURIComponent('{"service.version":"1.2.3"}')}`, [T1]],
    ['service=api-gateway&tag=span.kind:server&tag=workflow.type:search', [T4]],
    ['service=api-gateway&minDuration=100ms', [T2, T1]],
    ['service=api-gateway&minDuration=101ms', [T2]],
    ['service=api-gateway&maxDuration=0.1s', [T4, T1]],
    ['service=api-gateway&limit=1', [T4]],
    ['service=stripe', [T1]],
    ['service=nope', []],
  ])('search %s', async (query, expected) => {
    const { status, body } = await get(`/api/traces?${query}&${range}`);
    expect(status).toBe(200);
    expectEnvelope(body);
    const traces = body.data as Record<string, unknown>[];
    expect(traces.map((t) => t.traceID)).toEqual(expected);
    expect(body.total).toBe(expected.length);
    for (const t of traces) expectJaegerTraceShape(t);
  });

  it('search by workflow type (saved response)', async () => {
    const { body } = await get(`/api/traces?service=postgres&tags=${encodeURIComponent('{"workflow.type":"checkout"}')}&limit=20&${range}`);
    expectFixture('search-postgres-checkout', body);
  });

  it('search outside the time range finds nothing; lookback works; bad parameters are 400', async () => {
    expect((await get(`/api/traces?service=api-gateway&start=${us(BASE + 7_200_000)}&end=${us(BASE + 7_300_000)}`)).body.data).toEqual([]);
    expect((await get(`/api/traces?service=api-gateway&end=${us(BASE + 1_900_000)}&lookback=1h`)).body.total).toBe(3);
    expect((await get(`/api/traces?service=api-gateway&end=${us(BASE + 1_900_000)}&lookback=2m`)).body.total).toBe(1);
    for (const q of ['', 'service=x&tags=notjson', 'service=x&minDuration=5parsecs', 'service=x&lookback=forever', 'service=x&tag=nocolon', `service=x&start=${us(BASE + 1)}&end=${us(BASE)}`]) {
      const res = await get(`/api/traces?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.data).toBeNull();
    }
  });

  it('traceID parameter fetches several traces at once', async () => {
    const { body } = await get(`/api/traces?traceID=${T1}&traceID=${T2}`);
    expect((body.data as { traceID: string }[]).map((t) => t.traceID)).toEqual([T1, T2]);
  });

  it('dependencies', async () => {
    const { status, body } = await get(`/api/dependencies?endTs=${BASE + 3_600_000}&lookback=7200000`);
    expect(status).toBe(200);
    expectEnvelope(body);
    expectFixture('dependencies', body);
    expect(body.data).toEqual([
      { parent: 'api-gateway', child: 'cart-service', callCount: 1 },
      { parent: 'api-gateway', child: 'payment-service', callCount: 1 },
      { parent: 'api-gateway', child: 'postgres', callCount: 2 },
      { parent: 'api-gateway', child: 'redis', callCount: 1 },
      { parent: 'cart-service', child: 'redis', callCount: 1 },
      { parent: 'payment-service', child: 'postgres', callCount: 1 },
      { parent: 'payment-service', child: 'stripe', callCount: 1 },
    ]);
    expect((await get(`/api/dependencies?endTs=${BASE - 3_600_000}&lookback=60000`)).body.data).toEqual([]);
  });
});

describe('Go duration parsing', () => {
  it.each([
    ['1.5s', 1_500_000],
    ['100ms', 100_000],
    ['250us', 250],
    ['250µs', 250],
    ['1m30s', 90_000_000],
    ['2h', 7.2e9],
    ['500ns', 0.5],
  ])('%s = %d µs', (s, expected) => expect(parseGoDuration(s)).toBe(expected));
  it.each(['', '5', 's', '1x', '1s ', '-1s', '1s;DROP'])('%j is refused', (s) => expect(() => parseGoDuration(s)).toThrow());
});
