import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';

/**
 * Issue 13 (3): realistic leaks, in every place a span can carry text, never reach a table,
 * an API answer or a log line. Each secret is a distinct marker so a hit names its leak.
 */
const LEAKS: Array<[where: string, key: string, value: (secret: string) => string]> = [
  ['attr', 'db.statement', (s) => `SELECT * FROM users WHERE email = 'a@b.c' AND password = '${s}'`],
  ['attr', 'db.query.text', (s) => `UPDATE accounts SET api_key = '${s}' WHERE id = 7`],
  ['attr', 'http.url', (s) => `https://shop.example.com/cart?token=${s}&page=2`],
  ['attr', 'url.full', (s) => `https://bob:${s}@api.example.com/v1/orders`],
  ['attr', 'db.connection_string', (s) => `postgres://app:${s}@db.internal:5432/shop`],
  ['attr', 'db.connection_string.ado', (s) => `Server=db;Database=shop;User Id=app;Password=${s};`],
  ['attr', 'redis.url', (s) => `redis://:${s}@cache:6379/0`],
  ['attr', 'url.query', (s) => `?sig=${s}&expires=1700000000`],
  ['attr', 'ssh.passphrase', (s) => s],
  ['attr', 'db.pwd', (s) => s],
  ['attr', 'jwt', (s) => s],
  ['attr', 'app.note', (s) => `Authorization: Bearer ${s}`],
  ['attr', 'app.payload', (s) => `{"password":"${s}","user":"bob"}`],
  ['attr', 'http.request.header.x-forwarded-url', (s) => `/reset?code=x&access_token=${s}`],
  ['status', '', (s) => `login failed: password=${s} for user bob`],
  ['name', '', (s) => `GET /callback?token=${s}`],
  ['event', 'exception.message', (s) => `could not connect: postgres://svc:${s}@db:5432/app`],
  ['event', 'exception.stacktrace', (s) => `Error: auth failed (secret=${s})\n    at login (app.js:1:1)`],
  ['eventname', '', (s) => `retry with api_key=${s}`],
  ['resource', 'service.instance.config', (s) => `mongodb://root:${s}@mongo:27017`],
  // the issue's `password=` in an exception message and a span name too, and more common shapes
  ['event', 'exception.message', (s) => `login failed for bob: password=${s}`],
  ['name', '', (s) => `POST /login password=${s}`],
  ['attr', 'http.request.header.authorization', (s) => `Basic ${s}`],
  ['attr', 'http.request.header.cookie', (s) => `session=${s}; theme=dark`],
  ['attr', 'aws.secret_access_key', (s) => s],
  ['attr', 'messaging.url', (s) => `amqp://guest:${s}@rabbit:5672/`],
  ['attr', 'app.log', (s) => `calling https://api.example.com/pay?client_secret=${s}`],
];

const secretFor = (i: number) => `Lk${i}x${'q7Zr'.repeat(3)}S3cr3t`;

describe('no realistic secret reaches a table, an API answer or a log line', () => {
  const lines: string[] = [];
  const sink = () => pino({ level: 'debug' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(String(c)), done()) }));
  let t: Awaited<ReturnType<typeof openTestDatabase>>;
  let collector: Collector;
  let api: Awaited<ReturnType<typeof buildQueryApi>>;
  let token: string;
  const traceId = 'ab'.repeat(16);

  beforeAll(async () => {
    t = await openTestDatabase('postgres');
    collector = buildCollector({ db: t.db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: sink() });
    api = await buildQueryApi({ db: t.db, config: parseConfig(queryApiConfigShape, {}), logger: sink() });
    token = (await createToken(t.db, { name: 'leaks', role: 'admin' })).token;
  });
  afterAll(async () => {
    await api.close();
    await collector.close();
    await t.dispose();
  });

  it('all of them, stored, served and logged nowhere', async () => {
    const attrs = (pairs: Array<[string, string]>) => pairs.map(([key, v]) => ({ key, value: { stringValue: v } }));
    const spanAttrs: Array<[string, string]> = [['workflow.id', 'wf-leaks'], ['workflow.type', 'login']];
    const resource: Array<[string, string]> = [['service.name', 'auth-service']];
    const exceptions: Array<Array<[string, string]>> = [];
    const names: string[] = [];
    const eventNames: string[] = [];
    let status = 'failed';
    LEAKS.forEach(([where, key, value], i) => {
      const v = value(secretFor(i));
      if (where === 'attr') spanAttrs.push([key, v]);
      else if (where === 'event') exceptions.push([['exception.type', 'AuthError'], [key, v]]);
      else if (where === 'resource') resource.push([key, v]);
      else if (where === 'status') status = v;
      else if (where === 'name') names.push(v);
      else eventNames.push(v);
    });
    const now = BigInt(Date.now()) * 1_000_000n;
    // the first span carries the attributes, events and status; one more span per leaking name
    const spans = names.map((name, k) => ({
      traceId,
      spanId: String(k + 1).padStart(16, '0'),
      ...(k > 0 ? { parentSpanId: '1'.padStart(16, '0') } : {}),
      name,
      kind: 2,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 5_000_000n),
      attributes: attrs(k === 0 ? spanAttrs : [['workflow.id', 'wf-leaks']]),
      events:
        k === 0
          ? [
              ...exceptions.map((a) => ({ name: 'exception', timeUnixNano: String(now), attributes: attrs(a) })),
              ...eventNames.map((n) => ({ name: n, timeUnixNano: String(now), attributes: [] })),
            ]
          : [],
      status: k === 0 ? { code: 2, message: status } : { code: 2, message: 'failed' },
    }));
    const body = { resourceSpans: [{ resource: { attributes: attrs(resource) }, scopeSpans: [{ scope: { name: 'leaks' }, spans }] }] };
    const res = await collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({}); // every span accepted, none refused
    const [{ n } = { n: 0 }] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_steps WHERE trace_id = $1', [traceId]);
    expect(n).toBe(names.length);

    const leaked = (text: string) => LEAKS.map((l, i) => [l, secretFor(i)] as const).filter(([, s]) => text.includes(s)).map(([l]) => `${l[0]} ${l[1]}`);

    // Every table, every row, as text.
    let stored = '';
    const tables = await t.db.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`);
    for (const { t: table } of tables) {
      const rows = await t.db.query<{ r: string }>(`SELECT x::text AS r FROM ${table} x`);
      stored += rows.map((r) => r.r).join('\n');
    }
    expect(stored).toContain('***REDACTED***');
    expect(stored).toContain('wf-leaks');
    expect(leaked(stored)).toEqual([]);

    // What the API serves about it.
    let served = '';
    for (const url of [
      '/api/v1/debugging/workflows/wf-leaks',
      `/api/v1/debugging/traces/${traceId}`,
      '/api/v1/debugging/errors',
      `/jaeger/api/traces/${traceId}`,
      '/jaeger/api/services/auth-service/operations',
    ]) {
      const r = await api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      expect(r.statusCode, url).toBe(200);
      served += r.body;
    }
    expect(served).toContain('wf-leaks');
    expect(leaked(served)).toEqual([]);

    // And every log line of both.
    expect(lines.length).toBeGreaterThan(0);
    expect(leaked(lines.join(''))).toEqual([]);
  });
});
