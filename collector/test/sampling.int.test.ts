import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createTestDatabase, openTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { countPendingSnapshots, foldPendingSnapshots, migrate, openPostgres, snapshotsWithPending, type Database } from '@flowscope/storage';
import { keepByRate } from '../src/sampler.ts';
import { freePort, otlpJson, otlpProto, spanId, startCollector, startProcess, type SpanSpec, type TestCollector } from './helpers.ts';

const JSON_CT = { 'content-type': 'application/json' };
const hexTrace = (i: number, salt = 'a1') => `${salt}${i.toString(16).padStart(30, '0')}`;
const post = (t: TestCollector, body: object) =>
  t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: JSON_CT, payload: JSON.stringify(body) });

describe('consistent sampling', () => {
  let a: TestCollector;
  let b: TestCollector;
  beforeAll(async () => {
    const env = { DEBUGGING_TRACE_SAMPLING_RATE: '0.1', FLOWSCOPE_SAMPLING_HOLD_MAX_SPANS: '200000' };
    [a, b] = await Promise.all([startCollector('postgres', env), startCollector('postgres', env)]);
  });
  afterAll(async () => {
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('keeps 9–11 % of 20,000 traces, each whole or not at all, and two instances agree on every trace', async () => {
    const TRACES = 20_000;
    const PER_REQUEST = 500;
    // Each trace has three spans; the third arrives in a later request than the first two.
    for (let start = 0; start < TRACES; start += PER_REQUEST) {
      const first: SpanSpec[] = [];
      const later: SpanSpec[] = [];
      for (let i = start; i < start + PER_REQUEST; i++) {
        const traceId = hexTrace(i);
        first.push({ traceId, spanId: spanId(0), name: 'GET /search', attributes: { 'workflow.type': 'search' } });
        first.push({ traceId, spanId: spanId(1), parentSpanId: spanId(0), name: 'query' });
        later.push({ traceId, spanId: spanId(2), parentSpanId: spanId(0), name: 'render' });
      }
      for (const t of [a, b]) {
        expect((await post(t, otlpJson('search-svc', first))).statusCode).toBe(200);
        expect((await post(t, otlpJson('search-svc', later))).statusCode).toBe(200);
      }
    }
    const kept = async (t: TestCollector) => {
      const rows = await t.db.query<{ trace_id: string; n: number }>('SELECT trace_id, count(*)::int AS n FROM trace_steps GROUP BY trace_id');
      return new Map(rows.map((r) => [r.trace_id, r.n]));
    };
    const [ka, kb] = await Promise.all([kept(a), kept(b)]);
    const share = ka.size / TRACES;
    expect(share).toBeGreaterThanOrEqual(0.09);
    expect(share).toBeLessThanOrEqual(0.11);
    for (const n of ka.values()) expect(n).toBe(3); // whole or not at all
    expect([...ka.keys()].sort()).toEqual([...kb.keys()].sort());
    // The decision is the pure function of the trace id.
    for (const id of ka.keys()) expect(keepByRate(id, 0.1)).toBe(true);

    // Every workflow still has its session and counts; the sampled-out ones flagged not stored.
    const [s] = await a.db.query<{ sessions: number; spans: number; stored: number }>(
      `SELECT count(*)::int AS sessions, sum(span_count)::int AS spans, (count(*) FILTER (WHERE keep))::int AS stored FROM workflow_sessions`,
    );
    expect(s).toEqual({ sessions: TRACES, spans: TRACES * 3, stored: ka.size });
  }, 240_000);
});

describe('interesting traces are kept whole', () => {
  let t: TestCollector;
  beforeAll(async () => {
    t = await startCollector('postgres', { DEBUGGING_TRACE_SAMPLING_RATE: '0', FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: '60000' });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('stores the whole trace when its error span arrives last, in a later request', async () => {
    const traceId = hexTrace(1, 'e1');
    const early = [
      { traceId, spanId: spanId(0), name: 'POST /pay', attributes: { 'workflow.type': 'checkout', 'workflow.id': 'late-error' } },
      { traceId, spanId: spanId(1), parentSpanId: spanId(0), name: 'load cart' },
    ];
    expect((await post(t, otlpJson('shop', early))).statusCode).toBe(200);
    expect(await t.db.query('SELECT 1 FROM trace_steps WHERE trace_id = $1', [traceId])).toHaveLength(0);
    expect(t.collector.sampler.heldSpanCount).toBe(2);
    // Spans after the decision are kept too.
    const errorSpan = [{ traceId, spanId: spanId(2), parentSpanId: spanId(0), name: 'charge', status: { code: 2, message: 'declined' } }];
    expect((await post(t, otlpJson('payments', errorSpan))).statusCode).toBe(200);
    const after = [{ traceId, spanId: spanId(3), parentSpanId: spanId(0), name: 'notify' }];
    expect((await post(t, otlpJson('shop', after))).statusCode).toBe(200);
    const rows = await t.db.query<{ span_id: string }>('SELECT span_id FROM trace_steps WHERE trace_id = $1 ORDER BY span_id', [traceId]);
    expect(rows.map((r) => r.span_id)).toEqual([spanId(0), spanId(1), spanId(2), spanId(3)]);
    const metrics = (await t.collector.app.inject('/metrics')).body;
    expect(metrics).toMatch(/flowscope_spans_rescued_total 2/);
    const [s] = await t.db.query<{ status: string; span_count: number; keep: boolean }>(
      `SELECT status, span_count, keep FROM workflow_sessions WHERE workflow_id = 'late-error'`,
    );
    expect(s).toEqual({ status: 'failed', span_count: 4, keep: true });
  });

  it('keeps a trace with a span over its layer’s critical threshold', async () => {
    const traceId = hexTrace(2, 'e1');
    const spans = [
      { traceId, spanId: spanId(0), name: 'GET /x', durationMs: 50 },
      { traceId, spanId: spanId(1), parentSpanId: spanId(0), name: 'SELECT', durationMs: 150, attributes: { 'db.system': 'postgresql' } },
    ];
    expect((await post(t, otlpJson('svc', spans))).statusCode).toBe(200);
    expect(await t.db.query('SELECT 1 FROM trace_steps WHERE trace_id = $1', [traceId])).toHaveLength(2);
    // 150 ms is fine for an API span (critical 500 ms): not kept at rate 0.
    const calm = hexTrace(3, 'e1');
    expect((await post(t, otlpJson('svc', [{ traceId: calm, spanId: spanId(0), name: 'GET /y', durationMs: 150 }]))).statusCode).toBe(200);
    expect(await t.db.query('SELECT 1 FROM trace_steps WHERE trace_id = $1', [calm])).toHaveLength(0);
  });
});

describe('span metrics count every span, sampled or not', () => {
  it('performance_snapshots and /metrics count all spans exactly while sampling drops 90 %, and a retry counts nothing twice', async () => {
    const t = await startCollector('postgres', { DEBUGGING_TRACE_SAMPLING_RATE: '0.1', FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: '0' });
    try {
      const TRACES = 2000;
      const bodies: Buffer[] = [];
      for (let start = 0; start < TRACES; start += 250) {
        const spans: SpanSpec[] = [];
        for (let i = start; i < start + 250; i++) {
          const traceId = hexTrace(i, 'b2');
          spans.push({ traceId, spanId: spanId(0), kind: 2, durationMs: 20 + (i % 7), attributes: { 'workflow.type': 'browse', 'http.request.method': 'GET' } });
          spans.push({ traceId, spanId: spanId(1), parentSpanId: spanId(0), durationMs: 5, attributes: { 'db.system': 'postgresql' } });
        }
        bodies.push(otlpProto(otlpJson('catalog', spans)));
      }
      for (const body of bodies) {
        const res = await t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: body });
        expect(res.statusCode).toBe(200);
      }
      // An exporter retry of the first request: the same bytes again.
      const retry = await t.collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: bodies[0]! });
      expect(retry.statusCode).toBe(200);

      const [stored] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_steps');
      expect(stored!.n).toBeGreaterThan(TRACES * 2 * 0.05);
      expect(stored!.n).toBeLessThan(TRACES * 2 * 0.2);
      const snap = await t.db.query<{ layer: string; count: string; sum: number }>(
        `SELECT layer, sum(count)::text AS count, sum(sum) AS sum FROM ${snapshotsWithPending()} s WHERE metric = 'duration_ms' GROUP BY layer ORDER BY layer`,
      );
      const expectedApiSum = Array.from({ length: TRACES }, (_, i) => 20 + (i % 7)).reduce((s, v) => s + v, 0);
      expect(snap.map((r) => [r.layer, Number(r.count)])).toEqual([
        ['api', TRACES],
        ['database', TRACES],
      ]);
      expect(Number(snap[0]!.sum)).toBeCloseTo(expectedApiSum, 3);
      const metrics = (await t.collector.app.inject('/metrics')).body;
      const count = (layer: string) =>
        Number(new RegExp(`debugging_response_time_seconds_count\\{workflow_type="browse",layer="${layer}"\\} (\\d+)`).exec(metrics)?.[1]);
      expect(count('api')).toBe(TRACES);
      expect(count('database')).toBe(TRACES);
      const [sessions] = await t.db.query<{ n: number; spans: number }>(`SELECT count(*)::int AS n, sum(span_count)::int AS spans FROM workflow_sessions`);
      expect(sessions).toEqual({ n: TRACES, spans: TRACES * 2 });
      // The counts were read with the pending rows; folded, the table alone holds the same.
      expect(await countPendingSnapshots(t.db)).toBeGreaterThan(0);
      while ((await foldPendingSnapshots(t.db, 1000)) > 0);
      const folded = await t.db.query<{ layer: string; count: string; sum: number }>(
        `SELECT layer, sum(count)::text AS count, sum(sum) AS sum FROM performance_snapshots WHERE metric = 'duration_ms' GROUP BY layer ORDER BY layer`,
      );
      expect(folded).toEqual(snap);
    } finally {
      await t.dispose();
    }
  });
});

describe('held spans are bounded', () => {
  it('a flood of never-interesting traces never holds more than the bound; the oldest are let go and counted', async () => {
    const t = await startCollector('postgres', {
      DEBUGGING_TRACE_SAMPLING_RATE: '0',
      FLOWSCOPE_SAMPLING_HOLD_MAX_SPANS: '1000',
      FLOWSCOPE_SAMPLING_HOLD_MAX_BYTES: String(10 * 1024 * 1024),
      FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: '600000',
    });
    try {
      let maxHeld = 0;
      for (let r = 0; r < 50; r++) {
        const spans = Array.from({ length: 100 }, (_, i) => ({ traceId: hexTrace(r * 100 + i, 'f1'), spanId: spanId(0) }));
        expect((await post(t, otlpJson('flood', spans))).statusCode).toBe(200);
        maxHeld = Math.max(maxHeld, t.collector.sampler.heldSpanCount);
      }
      expect(maxHeld).toBe(1000);
      expect(t.collector.sampler.heldSpanCount).toBeLessThanOrEqual(1000);
      const metrics = (await t.collector.app.inject('/metrics')).body;
      expect(metrics).toMatch(/flowscope_spans_sampled_out_total\{why="evicted"\} 4000/);
      expect(metrics).toMatch(/flowscope_spans_held 1000/);
      // The byte bound holds too: big attributes push traces out by bytes.
      const big = Array.from({ length: 20 }, (_, i) => ({ traceId: hexTrace(90_000 + i, 'f1'), spanId: spanId(0), attributes: { blob: 'x'.repeat(1024 * 1024) } }));
      expect((await post(t, otlpJson('flood', big))).statusCode).toBe(200);
      expect(t.collector.sampler.heldByteCount).toBeLessThanOrEqual(10 * 1024 * 1024);
    } finally {
      await t.dispose();
    }
  });
});

describe('two collector processes sharing Redis', () => {
  let tdb: TestDatabase;
  let db: Database;
  const prefix = `fs-test-${process.pid}-${Date.now()}`;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = openPostgres({ url: tdb.url, maxConnections: 2 });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('the early spans sent to one and the error span to the other: the whole trace is stored', async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    await redis.connect();
    await redis.quit();
    const [portA, portB] = [await freePort(), await freePort()];
    const env = (port: number) => ({
      DATABASE_URL: tdb.url,
      REDIS_URL: 'redis://127.0.0.1:6379',
      FLOWSCOPE_REDIS_PREFIX: prefix,
      FLOWSCOPE_COLLECTOR_PORT: String(port),
      FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
      FLOWSCOPE_COLLECTOR_GRPC_PORT: '0',
      DEBUGGING_TRACE_SAMPLING_RATE: '0',
      FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: '60000',
    });
    const [procA, procB] = await Promise.all([startProcess(env(portA)), startProcess(env(portB))]);
    try {
      // Both replicas must report ready (Redis subscribed) before the test sends.
      for (const port of [portA, portB]) {
        let ok = false;
        for (let i = 0; i < 100 && !ok; i++) {
          ok = (await fetch(`http://127.0.0.1:${port}/ready`)).status === 200;
          if (!ok) await new Promise((r) => setTimeout(r, 100));
        }
        expect(ok).toBe(true);
      }
      const traceId = hexTrace(7, 'c3');
      const send = (port: number, spans: SpanSpec[]) =>
        fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: JSON_CT, body: JSON.stringify(otlpJson('svc', spans)) });
      expect((await send(portA, [{ traceId, spanId: spanId(0), name: 'root' }, { traceId, spanId: spanId(1), parentSpanId: spanId(0) }])).status).toBe(200);
      expect((await send(portB, [{ traceId, spanId: spanId(2), parentSpanId: spanId(0), status: { code: 2, message: 'boom' } }])).status).toBe(200);
      // Replica A writes its held spans when B's decision reaches it (bounded wait).
      let n = 0;
      for (let i = 0; i < 100 && n < 3; i++) {
        n = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_steps WHERE trace_id = $1', [traceId]))[0]!.n;
        if (n < 3) await new Promise((r) => setTimeout(r, 100));
      }
      expect(n).toBe(3);
    } finally {
      procA.kill('SIGTERM');
      procB.kill('SIGTERM');
      await Promise.all([procA, procB].map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    }
  });
});

describe('PGlite', () => {
  it('samples and counts on the embedded driver too', async () => {
    const t = await openTestDatabase('pglite');
    const c = await startCollector('pglite', { DEBUGGING_TRACE_SAMPLING_RATE: '0' }, { db: t.db });
    try {
      const traceId = hexTrace(1, 'd4');
      expect((await post(c, otlpJson('svc', [{ traceId, spanId: spanId(0) }]))).statusCode).toBe(200);
      expect((await post(c, otlpJson('svc', [{ traceId, spanId: spanId(1), parentSpanId: spanId(0), status: { code: 2 } }]))).statusCode).toBe(200);
      expect(await t.db.query('SELECT 1 FROM trace_steps WHERE trace_id = $1', [traceId])).toHaveLength(2);
      const [s] = await t.db.query<{ n: string }>(`SELECT sum(count)::text AS n FROM ${snapshotsWithPending()} s`);
      expect(Number(s!.n)).toBe(2);
    } finally {
      await c.dispose();
      await t.dispose();
    }
  });
});

describe('two collectors sharing Redis: workflow of a trace split across replicas', () => {
  it('an untagged span sent to one replica joins the workflow its trace was tagged with on the other', async () => {
    const t = await openTestDatabase('postgres');
    const prefix = `fs-test-wf-${process.pid}-${Date.now()}:`;
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', FLOWSCOPE_REDIS_PREFIX: prefix };
    const a = await startCollector('postgres', env, { db: t.db });
    const b = await startCollector('postgres', env, { db: t.db });
    try {
      await Promise.all([a.collector.ready, b.collector.ready]);
      const traceId = hexTrace(11, 'ab');
      const tagged = [{ traceId, spanId: spanId(0), name: 'POST /login', attributes: { 'workflow.type': 'login', 'workflow.id': 'login-77' } }];
      expect((await post(a, otlpJson('gateway', tagged))).statusCode).toBe(200);
      // The share is fire-and-forget: wait (bounded) until Redis has it.
      const redis = new Redis('redis://127.0.0.1:6379');
      try {
        for (let i = 0; i < 50 && !(await redis.get(`${prefix}trace:${traceId}`)); i++) await new Promise((r) => setTimeout(r, 20));
        expect(JSON.parse((await redis.get(`${prefix}trace:${traceId}`))!)).toEqual({ id: 'login-77', type: 'login' });
        const untagged = [{ traceId, spanId: spanId(1), parentSpanId: spanId(0), name: 'SELECT users', attributes: { 'db.system': 'postgresql' } }];
        expect((await post(b, otlpJson('users-db', untagged))).statusCode).toBe(200);
        const rows = await t.db.query<{ span_id: string; workflow_id: string; workflow_type: string }>(
          'SELECT span_id, workflow_id, workflow_type FROM trace_steps WHERE trace_id = $1 ORDER BY span_id',
          [traceId],
        );
        expect(rows).toEqual([
          { span_id: spanId(0), workflow_id: 'login-77', workflow_type: 'login' },
          { span_id: spanId(1), workflow_id: 'login-77', workflow_type: 'login' },
        ]);
        const [s] = await t.db.query<{ span_count: number }>(`SELECT span_count FROM workflow_sessions WHERE workflow_id = 'login-77'`);
        expect(s!.span_count).toBe(2);
        await redis.del(`${prefix}trace:${traceId}`);
      } finally {
        await redis.quit();
      }
    } finally {
      await a.dispose();
      await b.dispose();
      await t.dispose();
    }
  });
});
