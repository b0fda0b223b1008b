import { randomBytes } from 'node:crypto';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { pino } from 'pino';
import { parseConfig } from '@flowscope/common';
import {
  bucketIndex, emptyBuckets, writeSnapshotDeltas, writeSpans, type Database, type ErrorRecord, type SnapshotDelta, type SpanRecord,
} from '@flowscope/storage';
import { buildQueryApi, createToken, queryApiConfigShape, type QueryApiDeps } from '../src/index.ts';

export const testLogger = () => pino({ level: process.env.FLOWSCOPE_TEST_LOG_LEVEL ?? 'silent' });

export const queryConfig = (env: Record<string, string> = {}) => parseConfig(queryApiConfigShape, env);

/** A unique Redis key/channel prefix per test file, so files run in parallel. */
export const redisPrefix = (name: string) => `fs-test:${name}:${randomBytes(4).toString('hex')}:`;

export const REDIS_URL = process.env.FLOWSCOPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Tokens {
  admin: string;
  viewer: string;
  revoked: string;
}

export async function makeTokens(db: Database): Promise<Tokens> {
  const admin = await createToken(db, { name: 'admin-test', role: 'admin' });
  const viewer = await createToken(db, { name: 'viewer-test', role: 'viewer' });
  const revoked = await createToken(db, { name: 'revoked-test', role: 'admin' });
  await db.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1', [revoked.info.id]);
  return { admin: admin.token, viewer: viewer.token, revoked: revoked.token };
}

export async function makeApp(
  db: Database,
  env: Record<string, string> = {},
  extra: Partial<QueryApiDeps> & { routes?: RouteOptions[] } = {},
): Promise<FastifyInstance> {
  const { routes, ...rest } = extra;
  const app = await buildQueryApi({
    db,
    config: queryConfig(env),
    logger: testLogger(),
    ...(routes ? { onRoute: (r) => void routes.push(r) } : {}),
    ...rest,
  });
  await app.ready();
  return app;
}

export const auth = (token: string) => ({ authorization: `Bearer ${token}` });

// ---------------------------------------------------------------------------------------
// The known data set. Times are fixed so that answers (and the Jaeger fixtures) are exact.
// ---------------------------------------------------------------------------------------

export const BASE = Date.UTC(2025, 5, 2, 10, 0, 0); // 2025-06-02T10:00:00Z
const NS = 1_000_000n;
export const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
export const T1 = hex(0xa1, 32);
export const T2 = hex(0xb2, 32);
export const T3 = hex(0xc3, 32);
export const T4 = hex(0xd4, 32);
export const sid = (n: number) => hex(n, 16);

function span(over: Partial<SpanRecord> & { startMs: number; durationMs: number }): SpanRecord {
  const { startMs, durationMs, ...rest } = over;
  const start = BigInt(startMs) * NS;
  return {
    traceId: T1,
    spanId: sid(1),
    parentSpanId: null,
    workflowId: 'wf-checkout-1',
    workflowType: 'checkout',
    layer: 'api',
    component: 'api-gateway',
    name: 'op',
    kind: 1,
    statusCode: 0,
    statusMessage: null,
    isError: false,
    startUnixNano: start,
    endUnixNano: start + BigInt(Math.round(durationMs * 1e6)),
    userId: null,
    scopeName: null,
    attributes: {},
    resource: { 'service.name': rest.component ?? 'api-gateway' },
    events: [],
    links: [],
    ...rest,
  };
}

/**
 * Workflow wf-checkout-1 (trace T1), the hand-checked example (offsets in ms from BASE):
 *
 *   POST /checkout      api       api-gateway      [0, 100]
 *   ├ validate cart     service   cart-service     [5, 25]
 *   │ └ GET cart        cache     redis            [10, 15]
 *   ├ SELECT inventory  database  postgres         [20, 40]
 *   └ charge            service   payment-service  [30, 90]
 *     ├ INSERT payment  database  postgres         [35, 55]
 *     └ POST stripe     external  stripe           [40, 85]
 *
 * Self time: root 100 − |[5,90]| = 15; validate 20 − 5 = 15; GET cart 5; inventory 20;
 * charge 60 − |[35,85]| = 10; INSERT 20; stripe 45.
 * Per layer: external 45, database 40, service 25, api 15, cache 5 (sum 130 > 100: parallel).
 * Critical path: root[0,5] validate[5,10] cart[10,15] validate[15,25] root[25,30]
 *   charge[30,40] stripe[40,85] charge[85,90] root[90,100] — 100 ms.
 */
export function checkoutSpans(): SpanRecord[] {
  const wf = { 'workflow.type': 'checkout', 'workflow.id': 'wf-checkout-1' };
  const s = (n: number, parent: number | null, name: string, layer: string, component: string, from: number, to: number, over: Partial<SpanRecord> = {}) =>
    span({
      spanId: sid(n),
      parentSpanId: parent === null ? null : sid(parent),
      name,
      layer,
      component,
      startMs: BASE + from,
      durationMs: to - from,
      userId: 'u-1',
      attributes: { ...wf },
      resource: { 'service.name': component, 'deployment.environment': 'test' },
      ...over,
    });
  return [
    s(1, null, 'POST /checkout', 'api', 'api-gateway', 0, 100, {
      kind: 2,
      statusCode: 1,
      scopeName: '@shop/http',
      attributes: { ...wf, 'http.method': 'POST', 'http.status_code': 200, 'sample.ratio': 0.5, 'cache.hit': false, 'tags.list': ['a', 'b'] },
      resource: { 'service.name': 'api-gateway', 'service.version': '1.2.3', 'deployment.environment': 'test' },
    }),
    s(2, 1, 'validate cart', 'service', 'cart-service', 5, 25),
    s(3, 2, 'GET cart', 'cache', 'redis', 10, 15, { kind: 3, attributes: { ...wf, 'db.system': 'redis' } }),
    s(4, 1, 'SELECT inventory', 'database', 'postgres', 20, 40, { kind: 3, attributes: { ...wf, 'db.system': 'postgresql' } }),
    s(5, 1, 'charge', 'service', 'payment-service', 30, 90),
    s(6, 5, 'INSERT payment', 'database', 'postgres', 35, 55, { kind: 3, attributes: { ...wf, 'db.system': 'postgresql' } }),
    s(7, 5, 'POST stripe', 'external', 'stripe', 40, 85, {
      kind: 3,
      attributes: { ...wf, 'http.method': 'POST', 'server.address': 'api.stripe.com' },
      events: [{ name: 'retry', time: '2025-06-02T10:00:00.060123Z', attributes: { attempt: 2, reason: 'timeout' } }],
      links: [{ traceId: T4, spanId: sid(41), attributes: {} }],
    }),
  ];
}

export function datasetSpans(): SpanRecord[] {
  const min = 60_000;
  return [
    ...checkoutSpans(),
    // wf-checkout-2: failed (database error), 250 ms, user u-2
    span({ traceId: T2, spanId: sid(21), workflowId: 'wf-checkout-2', name: 'POST /checkout', kind: 2, startMs: BASE + 10 * min, durationMs: 250, userId: 'u-2', statusCode: 2, statusMessage: 'upstream failed', isError: true }),
    span({ traceId: T2, spanId: sid(22), parentSpanId: sid(21), workflowId: 'wf-checkout-2', name: 'INSERT order', layer: 'database', component: 'postgres', kind: 3, startMs: BASE + 10 * min + 50, durationMs: 150, userId: 'u-2', statusCode: 2, statusMessage: 'deadlock detected', isError: true }),
    // wf-login-1: in progress (its root has not arrived), 30 ms, user u-1
    span({ traceId: T3, spanId: sid(31), parentSpanId: sid(30), workflowId: 'wf-login-1', workflowType: 'login', name: 'check password', layer: 'service', component: 'auth-service', startMs: BASE + 20 * min, durationMs: 30, userId: 'u-1' }),
    // wf-search-1: completed, 40 ms, no user
    span({ traceId: T4, spanId: sid(41), workflowId: 'wf-search-1', workflowType: 'search', name: 'GET /search', kind: 2, startMs: BASE + 30 * min, durationMs: 40 }),
    span({ traceId: T4, spanId: sid(42), parentSpanId: sid(41), workflowId: 'wf-search-1', workflowType: 'search', name: 'GET search-cache', layer: 'cache', component: 'redis', kind: 3, startMs: BASE + 30 * min + 5, durationMs: 10 }),
  ];
}

export function datasetErrors(): ErrorRecord[] {
  const min = 60_000;
  const base: ErrorRecord = {
    traceId: T2, spanId: sid(22), seq: 0, correlationId: 'wf-checkout-2', workflowType: 'checkout', layer: 'database', component: 'postgres',
    spanName: 'INSERT order', severity: 'error', errorType: 'DeadlockError', message: 'deadlock detected', stack: 'at insert()',
    occurredUnixNano: BigInt(BASE + 10 * min + 200) * NS, attributes: {},
  };
  return [
    base,
    { ...base, spanId: sid(21), layer: 'api', component: 'api-gateway', spanName: 'POST /checkout', errorType: 'HttpError', message: 'upstream failed', stack: null, occurredUnixNano: BigInt(BASE + 10 * min + 250) * NS },
    { ...base, traceId: T4, spanId: sid(42), seq: 1, correlationId: 'wf-search-1', workflowType: 'search', layer: 'cache', component: 'redis', spanName: 'GET search-cache', severity: 'warning', errorType: 'CacheMiss', message: "it's a miss; DROP TABLE x", stack: null, occurredUnixNano: BigInt(BASE + 30 * min + 15) * NS },
  ];
}

export function delta(bucketStartMs: number, scope: { workflowType: string; layer: string; component: string }, values: number[], errors: number): SnapshotDelta {
  const buckets = emptyBuckets();
  for (const v of values) buckets[bucketIndex(v)]! += 1;
  return {
    bucketStartMs, ...scope, metric: 'duration_ms', count: values.length, errorCount: errors,
    sum: values.reduce((a, b) => a + b, 0), min: Math.min(...values), max: Math.max(...values), buckets,
  };
}

export const API_SCOPE = { workflowType: 'checkout', layer: 'api', component: 'api-gateway' };
export const DB_SCOPE = { workflowType: 'checkout', layer: 'database', component: 'postgres' };
/** Minute 0: api 10,20,30,40 (1 error); minute 1: api 100; minute 0: database 5,5. */
export const SNAPSHOT_VALUES = { api0: [10, 20, 30, 40], api1: [100], db0: [5, 5] };

export async function loadDataset(db: Database): Promise<void> {
  await writeSpans(db, { spans: datasetSpans(), errors: datasetErrors() });
  await db.transaction((tx) =>
    writeSnapshotDeltas(tx, [
      delta(BASE, API_SCOPE, SNAPSHOT_VALUES.api0, 1),
      delta(BASE + 60_000, API_SCOPE, SNAPSHOT_VALUES.api1, 0),
      delta(BASE, DB_SCOPE, SNAPSHOT_VALUES.db0, 0),
    ]),
  );
  await db.query(
    `INSERT INTO alert_rules (name, description, metric, workflow_type, layer, warning_threshold, critical_threshold, recipients, source)
     VALUES ('checkout api p95', 'seeded', 'duration_ms:p95', 'checkout', 'api', 200, 500, ARRAY['oncall@example.com'], 'config')`,
  );
  await db.query(
    `INSERT INTO alerts (rule_id, scope_key, severity, state, value, threshold, first_seen, last_seen, notification_status)
     SELECT id, 'checkout/api', 'critical', 'firing', 612.5, 500, '2025-06-02T10:05:00Z', '2025-06-02T10:06:00Z', 'sent' FROM alert_rules`,
  );
  await db.query(
    `INSERT INTO email_outbox (alert_id, recipients, subject, body_text, status, attempts)
     SELECT id, ARRAY['oncall@example.com'], '[critical] checkout api p95', 'p95 612.5 ms > 500 ms', 'unsent', 0 FROM alerts`,
  );
}
