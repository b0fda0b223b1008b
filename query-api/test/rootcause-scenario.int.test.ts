/**
 * Root-cause scenario: a checkout across four services (storefront → checkout-api → inventory
 * and payment; PostgreSQL and Redis calls; an uninstrumented payment provider of ~120 ms),
 * exported by the real OpenTelemetry SDK (one tracer provider per service, remote parents
 * through W3C trace-context propagation, parallel children, start times rounded to the
 * millisecond) into the real collector on PostgreSQL. Normal traffic first, then one fault of
 * each kind (slow 10–40×, error, timeout) at each position (database, cache, internal service,
 * external call). A hit: the top suspect's layer, component and operation are the injected
 * span's. Prints one line with the hit rate per kind and fails below 95 %.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { auth, makeApp, makeTokens, testLogger, type Tokens } from './helpers.ts';

const P = '/api/v1/debugging';
type Kind = 'slow' | 'error' | 'timeout';
type Position = 'database' | 'cache' | 'internal' | 'external';
interface Fault {
  kind: Kind;
  position: Position;
  factor: number;
}
interface Expected {
  layer: string;
  component: string;
  operation: string;
}

const propagator = new W3CTraceContextPropagator();
/** What a callee sees: the caller's context carried over HTTP headers. */
function remote(parent: Span): Context {
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, parent), headers, defaultTextMapSetter);
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

// Deterministic jitter (±15 %) so baselines have a spread.
let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const jitter = (ms: number) => ms * (0.85 + 0.3 * rand());

/**
 * One checkout. Start times are rounded down to the millisecond (as Date.now()-based clocks
 * do); durations keep their microseconds, so a span can end a little after its next sibling
 * started. Returns the injected span's expected identity (or null for a normal run).
 */
function checkout(t: Record<string, Tracer>, t0: number, workflowId: string, fault: Fault | null): Expected | null {
  const wf = { 'workflow.type': 'checkout', 'workflow.id': workflowId };
  const at = (ms: number) => Math.floor(ms);
  const is = (kind: Kind, position: Position) => fault?.kind === kind && fault.position === position;
  const slow = (position: Position, ms: number) => (is('slow', position) ? ms * fault!.factor : ms);
  const fail = (s: Span, message: string, type = 'Error') => {
    const e = new Error(message);
    e.name = type;
    s.recordException(e);
    s.setStatus({ code: SpanStatusCode.ERROR, message });
  };
  let expected: Expected | null = null;
  let failed = false;

  const root = t.storefront!.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(t0), attributes: { ...wf, 'http.request.method': 'GET', 'http.route': '/checkout' } });
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const call = t.storefront!.startSpan('POST /api/checkout', { kind: SpanKind.CLIENT, startTime: at(t0 + 1), attributes: { ...wf, 'http.request.method': 'POST', 'server.address': 'checkout-api', 'app.layer': 'service' } }, rootCtx);
  const api = t['checkout-api']!.startSpan('POST /api/checkout', { kind: SpanKind.SERVER, startTime: at(t0 + 1.3), attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/api/checkout' } }, remote(call));
  const apiCtx = trace.setSpan(ROOT_CONTEXT, api);
  let now = t0 + 1.5;

  // cache: GET cart
  const cartName = `GET cart:${1000 + Math.floor(rand() * 9000)}`;
  const cart = t['checkout-api']!.startSpan(cartName, { kind: SpanKind.CLIENT, startTime: at(now), attributes: { ...wf, 'db.system': 'redis' } }, apiCtx);
  let d = is('timeout', 'cache') ? 500 : slow('cache', jitter(0.8));
  if (is('timeout', 'cache')) fail(cart, 'Command timed out', 'TimeoutError');
  if (is('error', 'cache')) fail(cart, 'READONLY You can\'t write against a read only replica', 'ReplyError');
  if (fault?.position === 'cache') expected = { layer: 'cache', component: 'checkout-api', operation: cartName };
  cart.end(now + d);
  failed ||= fault?.position === 'cache' && fault.kind !== 'slow';
  now += d;

  if (!failed) {
    // in parallel: reserve stock in the inventory service, read prices from the cache
    const start = now;
    const inv = t['checkout-api']!.startSpan('POST /inventory/reserve', { kind: SpanKind.CLIENT, startTime: at(start), attributes: { ...wf, 'http.request.method': 'POST', 'server.address': 'inventory', 'app.layer': 'service' } }, apiCtx);
    const prices = t['checkout-api']!.startSpan('GET prices', { kind: SpanKind.CLIENT, startTime: at(start + 0.2), attributes: { ...wf, 'db.system': 'redis' } }, apiCtx);
    prices.end(start + 0.2 + jitter(1.5));
    let invEnd: number;
    if (is('timeout', 'internal')) {
      // the inventory service never answered: no server span at all
      invEnd = start + 2000;
      fail(inv, 'socket hang up');
      expected = { layer: 'service', component: 'checkout-api', operation: 'POST /inventory/reserve' };
      failed = true;
    } else {
      const srv = t.inventory!.startSpan('POST /inventory/reserve', { kind: SpanKind.SERVER, startTime: at(start + 0.5), attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/inventory/reserve' } }, remote(inv));
      const srvCtx = trace.setSpan(ROOT_CONTEXT, srv);
      const rs0 = start + 0.8;
      const reserve = t.inventory!.startSpan('reserve stock', { startTime: at(rs0), attributes: wf }, srvCtx);
      const upd = t.inventory!.startSpan('UPDATE inventory.stock', { kind: SpanKind.CLIENT, startTime: at(rs0 + 1), attributes: { ...wf, 'db.system': 'postgresql' } }, trace.setSpan(ROOT_CONTEXT, reserve));
      const updD = jitter(4);
      upd.end(rs0 + 1 + updD);
      const rsD = 1 + updD + slow('internal', jitter(6));
      if (is('error', 'internal')) {
        fail(reserve, 'not enough stock for sku 42', 'OutOfStock');
        fail(srv, 'Internal Server Error');
        srv.setAttribute('http.response.status_code', 500);
        failed = true;
      }
      if (fault?.position === 'internal') expected = { layer: 'service', component: 'inventory', operation: 'reserve stock' };
      reserve.end(rs0 + rsD);
      srv.end(rs0 + rsD + jitter(0.5));
      invEnd = rs0 + rsD + jitter(1);
      inv.setAttribute('http.response.status_code', failed ? 500 : 200);
      if (failed) fail(inv, 'HTTP 500');
    }
    inv.end(invEnd);
    now = invEnd;
  }

  if (!failed) {
    // database: INSERT shop.orders
    const ins = t['checkout-api']!.startSpan('INSERT shop.orders', { kind: SpanKind.CLIENT, startTime: at(now), attributes: { ...wf, 'db.system': 'postgresql', 'server.address': 'db' } }, apiCtx);
    d = is('timeout', 'database') ? 1000 : slow('database', jitter(3));
    if (is('timeout', 'database')) fail(ins, 'canceling statement due to statement timeout', 'QueryCanceled');
    if (is('error', 'database')) fail(ins, 'duplicate key value violates unique constraint "orders_pkey"', 'UniqueViolation');
    if (fault?.position === 'database') expected = { layer: 'database', component: 'checkout-api', operation: 'INSERT shop.orders' };
    ins.end(now + d);
    failed ||= fault?.position === 'database' && fault.kind !== 'slow';
    now += d;
  }

  if (!failed) {
    // payment service → the payment provider (uninstrumented: no server span, ever)
    const pay = t['checkout-api']!.startSpan('POST /payment/charge', { kind: SpanKind.CLIENT, startTime: at(now), attributes: { ...wf, 'http.request.method': 'POST', 'server.address': 'payment', 'app.layer': 'service' } }, apiCtx);
    const srv = t.payment!.startSpan('POST /payment/charge', { kind: SpanKind.SERVER, startTime: at(now + 0.4), attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/payment/charge' } }, remote(pay));
    const p0 = now + 1;
    const psp = t.payment!.startSpan('POST psp.example/v1/charges', { kind: SpanKind.CLIENT, startTime: at(p0), attributes: { ...wf, 'http.request.method': 'POST', 'url.full': 'https://psp.example/v1/charges', 'server.address': 'psp.example' } }, trace.setSpan(ROOT_CONTEXT, srv));
    d = is('timeout', 'external') ? 3000 : slow('external', jitter(120));
    if (is('timeout', 'external')) fail(psp, 'request aborted');
    else psp.setAttribute('http.response.status_code', is('error', 'external') ? 502 : 200);
    if (is('error', 'external')) fail(psp, 'HTTP 502 Bad Gateway');
    if (fault?.position === 'external') expected = { layer: 'external', component: 'payment', operation: 'POST psp.example/v1/charges' };
    psp.end(p0 + d);
    failed ||= fault?.position === 'external' && fault.kind !== 'slow';
    if (failed) fail(srv, 'payment failed');
    srv.end(p0 + d + jitter(0.6));
    if (failed) fail(pay, 'HTTP 500');
    now = p0 + d + jitter(1);
    pay.end(now);
  }

  if (failed) fail(api, 'checkout failed');
  api.end(now + 0.3);
  if (failed) fail(call, 'HTTP 500');
  call.end(now + 0.6);
  if (failed) fail(root, 'checkout failed');
  root.end(now + 1);
  return expected;
}

describe('root cause on a multi-service checkout (real SDK, real collector, PostgreSQL)', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let collector: Collector;
  let app: FastifyInstance;
  let tokens: Tokens;
  const faults: { id: string; fault: Fault; expected: Expected }[] = [];

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: testLogger() });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(collector.app.server.address() as { port: number }).port}/v1/traces`;
    app = await makeApp(db, { FLOWSCOPE_BASELINE_CACHE_MS: '0' });

    const providers: BasicTracerProvider[] = [];
    const tracers: Record<string, Tracer> = {};
    for (const service of ['storefront', 'checkout-api', 'inventory', 'payment']) {
      const p = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { maxQueueSize: 100_000, maxExportBatchSize: 2000, scheduledDelayMillis: 200 })],
      });
      providers.push(p);
      tracers[service] = p.getTracer('rootcause-scenario');
    }
    const start = Date.now() - 20 * 60_000;
    const NORMAL = 80;
    for (let i = 0; i < NORMAL; i++) checkout(tracers, start + i * 5_000, `normal-${i}`, null);
    let t = start + NORMAL * 5_000;
    for (const kind of ['slow', 'error', 'timeout'] as const) {
      for (const position of ['database', 'cache', 'internal', 'external'] as const) {
        for (const factor of [10, 20, 40]) {
          const id = `fault-${kind}-${position}-${factor}`;
          const fault = { kind, position, factor };
          faults.push({ id, fault, expected: checkout(tracers, (t += 5_000), id, fault)! });
        }
      }
    }
    for (const p of providers) await p.forceFlush();
    for (const p of providers) await p.shutdown();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await collector?.close();
    await dispose?.();
  });

  it('names the injected span as the top suspect for ≥ 95 % of the faults of each kind', async () => {
    const hits: Record<Kind, { hit: number; n: number; misses: string[] }> = {
      slow: { hit: 0, n: 0, misses: [] },
      error: { hit: 0, n: 0, misses: [] },
      timeout: { hit: 0, n: 0, misses: [] },
    };
    for (const f of faults) {
      const res = await app.inject({ method: 'GET', url: `${P}/workflows/${f.id}`, headers: auth(tokens.viewer) });
      expect(res.statusCode).toBe(200);
      const top = (res.json() as { suspects: { layer: string; component: string; operation: string; reason: string }[] }).suspects[0];
      const h = hits[f.fault.kind];
      h.n++;
      const ok = top !== undefined && top.layer === f.expected.layer && top.component === f.expected.component && top.operation === f.expected.operation && top.reason === f.fault.kind;
      if (ok) h.hit++;
      else h.misses.push(`${f.id}: ${top ? `${top.reason} ${top.layer}/${top.component}/${top.operation}` : 'none'}`);
    }
    const pct = (k: Kind) => (100 * hits[k].hit) / hits[k].n;
    // The one line this suite prints: hit rate per fault kind.
    process.stdout.write(
      `root-cause scenario hit rate: slow ${pct('slow').toFixed(0)} % (${hits.slow.hit}/${hits.slow.n}), error ${pct('error').toFixed(0)} % (${hits.error.hit}/${hits.error.n}), timeout ${pct('timeout').toFixed(0)} % (${hits.timeout.hit}/${hits.timeout.n})\n`,
    );
    for (const k of ['slow', 'error', 'timeout'] as const) {
      expect(hits[k].n).toBe(12);
      expect(pct(k), `${k} misses: ${hits[k].misses.join('; ')}`).toBeGreaterThanOrEqual(95);
    }
  });

  it('normal runs have no failure suspects, and the list shows a failed run\'s top suspect in one line', async () => {
    const normal = await app.inject({ method: 'GET', url: `${P}/workflows/normal-40`, headers: auth(tokens.viewer) });
    const suspects = (normal.json() as { suspects: { reason: string }[] }).suspects;
    expect(suspects.filter((s) => s.reason !== 'slow')).toEqual([]);
    const list = await app.inject({ method: 'GET', url: `${P}/workflows?status=failed&limit=100`, headers: auth(tokens.viewer) });
    const rows = (list.json() as { data: { workflow_id: string; top_suspect: { operation: string; summary: string } | null }[] }).data;
    const row = rows.find((r) => r.workflow_id === 'fault-error-database-10');
    expect(row?.top_suspect).toMatchObject({ operation: 'INSERT shop.orders' });
    expect(row!.top_suspect!.summary).toMatch(/UniqueViolation/);
  });

  it('a database span ending microseconds after its next sibling started stays on the critical path', async () => {
    const res = await app.inject({ method: 'GET', url: `${P}/workflows/fault-slow-database-20`, headers: auth(tokens.viewer) });
    const body = res.json() as { critical_path: { segments: { name: string | null }[] } };
    expect(body.critical_path.segments.map((s) => s.name)).toContain('INSERT shop.orders');
  });
});
