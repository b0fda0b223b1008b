import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector, type Collector } from '../src/index.ts';
import { collectorConfig, otlpJson, PgProxy, spanId, testLogger, traceId } from './helpers.ts';

describe('PostgreSQL outage', () => {
  const proxy = new PgProxy();
  let collector: Collector;
  let dispose: () => Promise<void>;
  let closeDb: () => Promise<void>;
  let directDb: Awaited<ReturnType<typeof openTestDatabase>>['db'];

  beforeAll(async () => {
    const t = await openTestDatabase('postgres');
    directDb = t.db;
    dispose = t.dispose;
    await proxy.start();
    const url = new URL(t.url!);
    url.port = String(proxy.port);
    const db = openPostgres({ url: url.toString(), maxConnections: 4, connectTimeoutSeconds: 2 });
    closeDb = () => db.close();
    collector = buildCollector({
      db,
      config: collectorConfig({ FLOWSCOPE_RETRY_AFTER_SECONDS: '1', FLOWSCOPE_WRITER_MAX_QUEUE_SPANS: '1000' }),
      logger: testLogger(),
    });
  });
  afterAll(async () => {
    await collector.close();
    await closeDb();
    await proxy.stop();
    await dispose();
  });

  const send = (tid: string, n = 10) =>
    collector.app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(otlpJson('svc', Array.from({ length: n }, (_, j) => ({ traceId: tid, spanId: spanId(j) })))),
    });

  it('answers 503 with Retry-After while the database is down, stays bounded, and recovers by itself', async () => {
    const before = traceId();
    expect((await send(before)).statusCode).toBe(200);

    await proxy.stop();
    const statuses = new Map<number, number>();
    let maxQueued = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    for (let round = 0; round < 30; round++) {
      const results = await Promise.all(Array.from({ length: 10 }, () => send(traceId(), 50)));
      for (const r of results) {
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        if (r.statusCode !== 200) expect(r.headers['retry-after']).toBe('1');
      }
      maxQueued = Math.max(maxQueued, collector.writer.queuedSpans);
    }
    // 300 requests × 50 spans during the outage: all refused as retryable, none buffered.
    expect(statuses.get(200) ?? 0).toBe(0);
    expect(statuses.get(503)).toBe(300);
    expect(maxQueued).toBeLessThanOrEqual(1000);
    expect(collector.writer.queuedSpans).toBe(0);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect((await collector.app.inject('/ready')).statusCode).toBe(503);
    expect((await collector.app.inject('/metrics')).body).toMatch(/flowscope_storage_up 0/);

    await proxy.start();
    // The writer probes storage on its own; wait (bounded) until it reports ready again.
    let ready = false;
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await collector.app.inject('/ready')).statusCode === 200;
      if (!ready) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ready).toBe(true);
    const after = traceId();
    expect((await send(after)).statusCode).toBe(200);
    const rows = await directDb.query<{ trace_id: string; n: number }>(
      'SELECT trace_id, count(*)::int AS n FROM trace_steps WHERE trace_id = ANY($1) GROUP BY trace_id ORDER BY trace_id',
      [[before, after]],
    );
    expect(rows.map((r) => r.n)).toEqual([10, 10]);
  });
});
