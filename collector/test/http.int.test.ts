import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotsWithPending } from '@flowscope/storage';
import { decodeStatus, ExportTraceServiceResponse } from '../src/otlp.ts';
import { gzip, otlpJson, otlpProto, spanId, startCollector, traceId, type TestCollector } from './helpers.ts';

const JSON_CT = { 'content-type': 'application/json' };
const PROTO_CT = { 'content-type': 'application/x-protobuf' };

describe('OTLP/HTTP receiver', () => {
  let t: TestCollector;
  const inject = (headers: Record<string, string>, payload: string | Buffer) =>
    t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers, payload });
  const count = async (where: string, params: unknown[] = []) =>
    Number((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${where}`, params))[0]!.n);

  beforeAll(async () => {
    t = await startCollector('postgres', { FLOWSCOPE_MAX_BODY_BYTES: String(64 * 1024) });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it.each([
    ['json', JSON_CT, (b: ReturnType<typeof otlpJson>) => JSON.stringify(b), {}],
    ['json; charset=utf-8', { 'content-type': 'application/json; charset=utf-8' }, (b: ReturnType<typeof otlpJson>) => JSON.stringify(b), {}],
    ['protobuf', PROTO_CT, otlpProto, {}],
    ['gzip json', JSON_CT, (b: ReturnType<typeof otlpJson>) => gzip(JSON.stringify(b)), { 'content-encoding': 'gzip' }],
    ['gzip protobuf', PROTO_CT, (b: ReturnType<typeof otlpJson>) => gzip(otlpProto(b)), { 'content-encoding': 'gzip' }],
  ])('accepts %s and stores the span', async (_name, ct, encode, extra) => {
    const tid = traceId();
    const res = await inject({ ...ct, ...extra }, encode(otlpJson('svc', [{ traceId: tid, spanId: spanId(1) }])) as string);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain(ct['content-type'].split(';')[0]);
    if (ct['content-type'].includes('protobuf')) {
      const decoded = ExportTraceServiceResponse.decode(res.rawPayload) as { partialSuccess?: unknown };
      expect(decoded.partialSuccess ?? null).toBeNull();
    } else {
      expect(res.json()).toEqual({});
    }
    expect(await count('trace_steps WHERE trace_id = $1', [tid])).toBe(1);
  });

  it('accepts the specification example (upper-case hex ids)', async () => {
    const body = readFileSync(new URL('./fixtures/opentelemetry-proto-example-trace.json', import.meta.url));
    const res = await inject(JSON_CT, body);
    expect(res.statusCode).toBe(200);
    const rows = await t.db.query<{ component: string; layer: string; workflow_id: string }>(
      `SELECT component, layer, workflow_id FROM trace_steps WHERE trace_id = '5b8efff798038103d269b633813fc60c'`,
    );
    expect(rows).toEqual([{ component: 'my.service', layer: 'service', workflow_id: '5b8efff798038103d269b633813fc60c' }]);
  });

  it.each([
    ['undecodable protobuf', PROTO_CT, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])],
    ['malformed JSON', JSON_CT, Buffer.from('{"resourceSpans": [')],
    ['JSON that is not an object', JSON_CT, Buffer.from('[1,2]')],
    ['corrupt gzip', { ...JSON_CT, 'content-encoding': 'gzip' }, Buffer.from('not gzip at all')],
  ])('answers 400 for %s, with a Status body in the request encoding', async (_name, headers, body) => {
    const res = await inject(headers, body);
    expect(res.statusCode).toBe(400);
    if (headers['content-type'] === 'application/x-protobuf') {
      expect(decodeStatus(res.rawPayload)).toMatchObject({ code: 3 });
      expect(decodeStatus(res.rawPayload).message).toMatch(/protobuf/);
    } else {
      expect(res.json()).toMatchObject({ code: 3 });
    }
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['application/xml', { 'content-type': 'application/xml' }],
    ['brotli encoding', { ...JSON_CT, 'content-encoding': 'br' }],
    ['no content type', {}],
  ])('answers 415 for %s', async (_name, headers) => {
    const res = await inject(headers as Record<string, string>, '{}');
    expect(res.statusCode).toBe(415);
    expect(res.json().message).toMatch(/unsupported content (type|encoding) "(text\/plain|application\/xml|br|\(none\))"/);
  });

  it('answers 405 with Allow: POST for another method', async () => {
    const res = await t.collector.app.inject({ method: 'GET', url: '/v1/traces' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('answers 413 past the body limit and accepts a body exactly at it', async () => {
    const limit = 64 * 1024;
    const base = JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1), attributes: { pad: '' } }]));
    const exact = base.replace('"stringValue":""', `"stringValue":"${'x'.repeat(limit - Buffer.byteLength(base))}"`);
    expect(Buffer.byteLength(exact)).toBe(limit);
    expect((await inject(JSON_CT, exact)).statusCode).toBe(200);
    const over = exact.replace('"stringValue":"x', '"stringValue":"xx');
    const res = await inject(JSON_CT, over);
    expect(res.statusCode).toBe(413);
    expect(res.json().message).toMatch(/exceeds the limit of 65536 bytes/);
  });

  it('refuses a decompression bomb at the decompressed limit without inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MiB of spaces, ~50 KiB compressed
    expect(bomb.length).toBeLessThan(64 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    const res = await inject({ ...JSON_CT, 'content-encoding': 'gzip' }, bomb);
    expect(res.statusCode).toBe(413);
    // The body was cut at the limit: nowhere near 50 MiB was held.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20 * 1024 * 1024);
  });

  it('partial success: invalid spans are rejected with a count and a reason, valid ones stored', async () => {
    const tid = traceId();
    const body = otlpJson('svc', [
      { traceId: tid, spanId: spanId(1) },
      { traceId: tid, spanId: 'abcd' },
      { traceId: 'ff', spanId: spanId(3) },
      { traceId: tid, spanId: spanId(4), startMs: 2000, durationMs: -1 },
    ]);
    for (const [headers, encode] of [
      [JSON_CT, (b: typeof body) => JSON.stringify(b)],
      [PROTO_CT, otlpProto],
    ] as const) {
      const res = await inject(headers, encode(body));
      expect(res.statusCode).toBe(200);
      const partial =
        headers === JSON_CT
          ? res.json().partialSuccess
          : (ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(res.rawPayload), { longs: String }) as {
              partialSuccess: unknown;
            }).partialSuccess;
      expect(partial).toMatchObject({ rejectedSpans: '3' });
      const message = (partial as { errorMessage: string }).errorMessage;
      expect(message).toMatch(/invalid span id/);
      expect(message).toMatch(/invalid trace id/);
      expect(message).toMatch(/end time before start time/);
    }
    expect(await count('trace_steps WHERE trace_id = $1', [tid])).toBe(1);
  });

  it('redacts secret-named attributes before they reach any table', async () => {
    const tid = traceId();
    const secret = 'hunter2-very-secret';
    const res = await inject(
      JSON_CT,
      JSON.stringify(
        otlpJson(
          'auth-service',
          [
            {
              traceId: tid,
              spanId: spanId(1),
              status: { code: 2, message: 'login failed' },
              attributes: {
                password: secret,
                'db.password': secret,
                'http.request.header.authorization': `Bearer ${secret}`,
                api_key: secret,
                'user.email': 'ok@example.com',
              },
              events: [{ name: 'exception', attributes: { 'exception.type': 'AuthError', 'exception.message': 'bad', session_token: secret } }],
            },
          ],
          { 'deployment.secret': secret },
        ),
      ),
    );
    expect(res.statusCode).toBe(200);
    const admin = postgres(t.url!, { max: 1 });
    try {
      // Every table, every column, as text.
      const tables = await admin<{ t: string }[]>`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`;
      for (const { t: table } of tables) {
        const hits = await admin.unsafe(`SELECT count(*)::int AS n FROM ${table} x WHERE x::text LIKE $1`, [`%${secret}%`]);
        expect(hits[0]!.n, table).toBe(0);
      }
      const [row] = await admin`SELECT attributes FROM trace_steps WHERE trace_id = ${tid}`;
      expect(row!.attributes).toMatchObject({ password: '***REDACTED***', 'user.email': 'ok@example.com' });
    } finally {
      await admin.end();
    }
  });

  it('duplicate delivery stores each span once and counts the workflow once', async () => {
    const tid = traceId();
    const body = JSON.stringify(
      otlpJson('svc', [
        { traceId: tid, spanId: spanId(1), attributes: { 'workflow.id': `dup-${tid}`, 'workflow.type': 'checkout' } },
        { traceId: tid, spanId: spanId(2), parentSpanId: spanId(1), status: { code: 2 } },
      ]),
    );
    const results = await Promise.all([inject(JSON_CT, body), inject(JSON_CT, body), inject(JSON_CT, body)]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect((await inject(JSON_CT, body)).statusCode).toBe(200);
    expect(await count('trace_steps WHERE trace_id = $1', [tid])).toBe(2);
    expect(await count('error_logs WHERE trace_id = $1', [tid])).toBe(1);
    const [s] = await t.db.query<{ span_count: number; error_count: number; status: string }>(
      'SELECT span_count, error_count, status FROM workflow_sessions WHERE workflow_id = $1',
      [`dup-${tid}`],
    );
    expect(s).toEqual({ span_count: 2, error_count: 1, status: 'failed' });
  });

  it('serves /health, /ready and /metrics with span counters', async () => {
    expect((await t.collector.app.inject('/health')).json()).toEqual({ status: 'healthy' });
    expect((await t.collector.app.inject('/ready')).json()).toEqual({ status: 'ready' });
    const metrics = (await t.collector.app.inject('/metrics')).body;
    const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(metrics)?.[1]);
    expect(value('flowscope_spans_received_total')).toBeGreaterThan(0);
    expect(value('flowscope_spans_accepted_total')).toBeGreaterThan(0);
    expect(metrics).toMatch(/flowscope_spans_refused_total\{reason="invalid"\} [1-9]/);
    expect(metrics).toMatch(/flowscope_write_duration_seconds_count [1-9]/);
  });
});

describe('limits under load', () => {
  it('memory limiter: a body within the in-flight bound passes, one past it gets 503 with Retry-After', async () => {
    const t = await startCollector('postgres', { FLOWSCOPE_MAX_INFLIGHT_BYTES: '4096', FLOWSCOPE_RETRY_AFTER_SECONDS: '7' });
    try {
      const small = JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1) }]));
      expect(Buffer.byteLength(small)).toBeLessThan(4096);
      const ok = await t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_CT, payload: small });
      expect(ok.statusCode).toBe(200);
      const big = JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1), attributes: { pad: 'x'.repeat(5000) } }]));
      const res = await t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_CT, payload: big });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('7');
      // Everything was given back: the next small request passes again.
      expect(t.collector.metrics.inflightBytes).toBeDefined();
      const again = await t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_CT, payload: small });
      expect(again.statusCode).toBe(200);
    } finally {
      await t.dispose();
    }
  });

  it.each([
    ['1 (always exceeded by a test process)', '1', 503],
    ['1000000 (never reached)', '1000000', 200],
  ])('heap bound FLOWSCOPE_MAX_HEAP_MB=%s', async (_name, mb, status) => {
    const t = await startCollector('pglite', { FLOWSCOPE_MAX_HEAP_MB: mb });
    try {
      const res = await t.collector.app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: JSON_CT,
        payload: JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1) }])),
      });
      expect(res.statusCode).toBe(status);
      if (status === 503) expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await t.dispose();
    }
  });

  it('writer queue bound: while the writer is blocked, a request past the queue bound gets 429 and the queued one still commits', async () => {
    const t = await startCollector('postgres', { FLOWSCOPE_WRITER_MAX_QUEUE_SPANS: '3', FLOWSCOPE_RETRY_AFTER_SECONDS: '3' });
    const locker = postgres(t.url!, { max: 1 });
    try {
      // Block the writer for real: hold a lock that its INSERT waits for.
      const release = (async () => {
        let unlock!: () => void;
        const held = new Promise<void>((r) => (unlock = r));
        const tx = locker.begin(async (sql) => {
          await sql`LOCK TABLE workflow_sessions IN EXCLUSIVE MODE`;
          await held;
        });
        return { unlock, tx };
      })();
      const { unlock, tx } = await release;
      await new Promise((r) => setTimeout(r, 100));
      const mk = () => JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1) }, { traceId: traceId(), spanId: spanId(2) }]));
      const first = t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_CT, payload: mk() });
      // Wait until the first request is queued in the writer.
      while (t.collector.writer.queuedSpans === 0) await new Promise((r) => setTimeout(r, 10));
      const second = await t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_CT, payload: mk() });
      expect(second.statusCode).toBe(429);
      expect(second.headers['retry-after']).toBe('3');
      unlock();
      await tx;
      expect((await first).statusCode).toBe(200);
    } finally {
      await locker.end();
      await t.dispose();
    }
  });
});

describe('group commit', () => {
  it.each([
    [4, 2], // the two queued requests (2 + 2 spans) fit one transaction
    [3, 3], // they do not: one transaction each
  ])('with FLOWSCOPE_WRITER_MAX_BATCH_SPANS=%i, three requests of 2 spans commit in %i transactions', async (maxBatch, transactions) => {
    // One flush at a time: requests that come while it commits queue for the next one.
    const t = await startCollector('postgres', { FLOWSCOPE_WRITER_MAX_BATCH_SPANS: String(maxBatch), FLOWSCOPE_WRITER_CONCURRENCY: '1' });
    const locker = postgres(t.url!, { max: 1 });
    try {
      let unlock!: () => void;
      const held = new Promise<void>((r) => (unlock = r));
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => (locked = r));
      const tx = locker.begin(async (sql) => {
        await sql`LOCK TABLE workflow_sessions IN EXCLUSIVE MODE`;
        locked();
        await held;
      });
      await isLocked;
      const send = () =>
        t.collector.app.inject({
          method: 'POST',
          url: '/v1/traces',
          headers: JSON_CT,
          payload: JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1) }, { traceId: traceId(), spanId: spanId(2) }])),
        });
      const first = send();
      while (t.collector.writer.queuedSpans < 2) await new Promise((r) => setTimeout(r, 5));
      const rest = [send(), send()];
      while (t.collector.writer.queuedSpans < 6) await new Promise((r) => setTimeout(r, 5));
      unlock();
      await tx;
      expect((await Promise.all([first, ...rest])).map((r) => r.statusCode)).toEqual([200, 200, 200]);
      const metrics = (await t.collector.app.inject('/metrics')).body;
      expect(Number(/flowscope_write_batch_spans_count (\d+)/.exec(metrics)?.[1])).toBe(transactions);
      expect(Number(/flowscope_write_batch_spans_sum (\d+)/.exec(metrics)?.[1])).toBe(6);
    } finally {
      await locker.end();
      await t.dispose();
    }
  });
});

describe('the old system’s switches', () => {
  it.each([
    ['DEBUGGING_ENABLED=False acknowledges and stores nothing', { DEBUGGING_ENABLED: 'False' }, { spans: 0, errors: 0, snapshots: 0, sessions: 0 }],
    ['DEBUGGING_ERROR_LOGGING=false stores spans but no error logs', { DEBUGGING_ERROR_LOGGING: 'false' }, { spans: 1, errors: 0, snapshots: 1, sessions: 1 }],
    ['DEBUGGING_PERFORMANCE_MONITORING=0 stores spans but no snapshots', { DEBUGGING_PERFORMANCE_MONITORING: '0' }, { spans: 1, errors: 1, snapshots: 0, sessions: 1 }],
  ])('%s', async (_name, env, expected) => {
    const t = await startCollector('postgres', env);
    try {
      const res = await t.collector.app.inject({
        method: 'POST',
        url: '/v1/traces',
        headers: JSON_CT,
        payload: JSON.stringify(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1), status: { code: 2, message: 'x' } }])),
      });
      expect(res.statusCode).toBe(200);
      const n = async (table: string) => Number((await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);
      expect({
        spans: await n('trace_steps'),
        errors: await n('error_logs'),
        snapshots: await n(`${snapshotsWithPending()} s`),
        sessions: await n('workflow_sessions'),
      }).toEqual(expected);
    } finally {
      await t.dispose();
    }
  });
});
