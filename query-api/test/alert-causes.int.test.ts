import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import {
  bucketIndex, emptyBuckets, writeOperationDeltas, writeSpans, type Database, type OperationDelta, type SpanRecord,
} from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { auth, hex, makeApp, makeTokens } from './helpers.ts';

/**
 * GET /alerts/{id} carries `causes`: for a latency alert the operations of the alert's scope
 * most over their baseline, for an error-rate alert the error origins; each with an exemplar
 * workflow. The scope of a per-workflow-type rule comes from the alert's scope key.
 */
const P = '/api/v1/debugging';
const MIN = 60_000;
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / MIN) * MIN;
const BASE_HOUR = Math.floor((NOW - 5 * MIN) / HOUR) * HOUR - 3 * HOUR;
const NS = 1_000_000n;

function op(bucketStartMs: number, bucketSeconds: number, layer: string, component: string, operation: string, ms: number): OperationDelta {
  const buckets = emptyBuckets();
  buckets[bucketIndex(ms)] = 20;
  return {
    bucketStartMs, bucketSeconds, workflowType: 'checkout', layer, component, operation,
    count: 20, errorCount: 0, sum: 20 * ms, selfSum: 20 * ms, min: ms, max: ms, buckets, selfBuckets: [...buckets],
  };
}

function span(o: Partial<SpanRecord> & { n: number; trace: number; startMs: number; durationMs: number }): SpanRecord {
  const { n, trace, startMs, durationMs, ...rest } = o;
  return {
    traceId: hex(trace, 32), spanId: hex(n, 16), parentSpanId: null, workflowId: `wf-${trace}`, workflowType: 'checkout',
    layer: 'api', component: 'storefront', name: 'POST /checkout', kind: 2, statusCode: 0, statusMessage: null, isError: false,
    startUnixNano: BigInt(startMs) * NS, endUnixNano: BigInt(startMs + durationMs) * NS, userId: null, scopeName: null,
    attributes: {}, resource: {}, events: [], links: [], ...rest,
  };
}

describe('alert causes on GET /alerts/{id}', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let token: string;
  const alertIds: Record<string, number> = {};

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    token = (await makeTokens(db)).viewer;
    await db.transaction((tx) =>
      writeOperationDeltas(tx, [
        op(BASE_HOUR, 3600, 'database', 'orders-db', 'INSERT shop.orders', 3),
        op(BASE_HOUR, 3600, 'external', 'payments', 'POST /charge', 4),
        op(NOW - 2 * MIN, 60, 'database', 'orders-db', 'INSERT shop.orders', 90),
        op(NOW - 2 * MIN, 60, 'external', 'payments', 'POST /charge', 400),
      ]),
    );
    const t = NOW - 2 * MIN;
    await writeSpans(db, {
      spans: [
        // wf-1: the slow INSERT (95 ms); wf-2 a less slow one.
        span({ trace: 1, n: 1, startMs: t, durationMs: 300 }),
        span({ trace: 1, n: 2, parentSpanId: hex(1, 16), layer: 'database', component: 'orders-db', name: 'INSERT shop.orders', kind: 3, startMs: t + 5, durationMs: 95 }),
        span({ trace: 2, n: 3, startMs: t, durationMs: 500 }),
        span({ trace: 2, n: 4, parentSpanId: hex(3, 16), layer: 'database', component: 'orders-db', name: 'INSERT shop.orders', kind: 3, startMs: t + 5, durationMs: 80 }),
        span({ trace: 2, n: 5, parentSpanId: hex(3, 16), layer: 'external', component: 'payments', name: 'POST /charge', kind: 3, startMs: t + 90, durationMs: 400 }),
        // wf-3: an error that started in the inventory query and propagated to the API.
        span({ trace: 3, n: 6, startMs: t, durationMs: 20, isError: true, statusCode: 2, statusMessage: 'upstream failed' }),
        span({
          trace: 3, n: 7, parentSpanId: hex(6, 16), layer: 'database', component: 'inventory-db', name: 'SELECT shop.stock', kind: 3,
          startMs: t + 2, durationMs: 10, isError: true, statusCode: 2, statusMessage: 'deadlock detected', attributes: { 'error.type': 'DeadlockError' },
        }),
      ],
      errors: [],
    });
    const rules = await db.query<{ id: number; name: string }>(
      `INSERT INTO alert_rules (name, metric, workflow_type, layer, critical_threshold, window_seconds)
       VALUES ('db p95', 'duration_ms:p95', '*', 'database', 50, 300),
              ('errors', 'duration_ms:error_pct', 'checkout', 'api', 5, 300)
       RETURNING id, name`,
    );
    for (const r of rules) {
      const [a] = await db.query<{ id: string }>(
        `INSERT INTO alerts (rule_id, scope_key, severity, state, value, threshold, first_seen, last_seen)
         VALUES ($1, $2, 'critical', 'firing', 90, 50, $3::timestamptz, $3::timestamptz) RETURNING id`,
        [r.id, r.name === 'db p95' ? 'workflow_type=checkout' : '', new Date(NOW).toISOString()],
      );
      alertIds[r.name] = Number(a!.id);
    }
  });
  afterAll(async () => {
    await app?.close();
    await dispose();
  });

  const get = async (id: number, a = app) => {
    const res = await a.inject({ method: 'GET', url: `${P}/alerts/${id}`, headers: auth(token) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ causes: Record<string, unknown>[] }>();
  };

  it('a database latency alert names the slow query of its scope (not the slower HTTP call), with the slowest stored run as exemplar', async () => {
    app = await makeApp(db);
    const body = await get(alertIds['db p95']!);
    expect(body.causes).toHaveLength(1);
    expect(body.causes[0]).toMatchObject({
      kind: 'slow', workflow_type: 'checkout', layer: 'database', component: 'orders-db', operation: 'INSERT shop.orders',
      window_count: 20, exemplar_workflow_id: 'wf-1', count: null, error_type: null,
    });
    expect(body.causes[0]!.ratio as number).toBeGreaterThan(10);
    expect(body.causes[0]!.baseline_p95_ms as number).toBeLessThan(5);
  });

  it('an error-rate alert names the error origin (the query), not the API it propagated through', async () => {
    const body = await get(alertIds.errors!);
    expect(body.causes).toEqual([
      expect.objectContaining({
        kind: 'error', layer: 'database', component: 'inventory-db', operation: 'SELECT shop.stock', count: 1,
        error_type: 'DeadlockError', message: 'deadlock detected', exemplar_workflow_id: 'wf-3', ratio: null,
      }),
    ]);
  });

  it('FLOWSCOPE_ALERT_CAUSES_MAX=0 lists none', async () => {
    const none = await makeApp(db, { FLOWSCOPE_ALERT_CAUSES_MAX: '0' });
    try {
      expect((await get(alertIds['db p95']!, none)).causes).toEqual([]);
    } finally {
      await none.close();
    }
  });
});
