import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Gauge, Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { parsePrometheusText } from '../src/system.ts';
import { auth, makeApp, makeTokens, queryConfig, testLogger, type Tokens } from './helpers.ts';
import { freePort } from '@flowscope/common/testing';

interface Component {
  name: string;
  where: string;
  url: string | null;
  health: { ok: boolean; status: number | null; detail: string } | null;
  ready: { ok: boolean; status: number | null; detail: string } | null;
  samples: { name: string; labels: Record<string, string>; value: number }[];
  error: string | null;
}

const sum = (c: Component | undefined, name: string, labels: Record<string, string> = {}) =>
  (c?.samples ?? []).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);

/** GET /system against a real collector (spans sent by the OpenTelemetry SDK), a silent server and a closed port. */
describe('GET /system: the processes the UI shows, read server-side', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let collector: Collector;
  let collectorUrl: string;
  let tokens: Tokens;
  let silent: Server;
  let silentUrl: string;
  let closedUrl: string;
  const apps: FastifyInstance[] = [];

  const system = async (env: Record<string, string>, extra: Parameters<typeof makeApp>[2] = {}) => {
    const app = await makeApp(db, env, extra);
    apps.push(app);
    const res = await app.inject({ method: 'GET', url: '/api/v1/debugging/system', headers: auth(tokens.viewer) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { components: Component[]; probe_timeout_ms: number };
    return { body, by: (name: string) => body.components.find((c) => c.name === name) };
  };

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: testLogger() });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    collectorUrl = `http://127.0.0.1:${(collector.app.server.address() as { port: number }).port}`;
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'system-test' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collectorUrl}/v1/traces` }))],
    });
    const tracer = p.getTracer('system-test');
    const root = tracer.startSpan('GET /ping', { kind: SpanKind.SERVER, attributes: { 'workflow.type': 'ping', 'workflow.id': 'system-1' } });
    tracer.startSpan('SELECT 1', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }, trace.setSpan(context.active(), root)).end();
    root.end();
    await p.forceFlush();
    await p.shutdown();
    // accepts connections, never answers
    silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    closedUrl = `http://127.0.0.1:${await freePort()}`; // bound, then closed: nothing listens there
  }, 60_000);
  afterAll(async () => {
    for (const a of apps) await a.close();
    silent?.close();
    await collector?.close();
    await dispose?.();
  });

  it("reads the collector's counters from FLOWSCOPE_COLLECTOR_URL: what the SDK sent was received and stored", async () => {
    const { by } = await system({ FLOWSCOPE_COLLECTOR_URL: collectorUrl });
    const c = by('collector');
    expect(c).toMatchObject({ where: 'remote', url: collectorUrl, error: null, health: { ok: true, status: 200, detail: 'healthy' }, ready: { ok: true, status: 200 } });
    expect(sum(c, 'flowscope_spans_received_total')).toBe(2);
    expect(sum(c, 'flowscope_spans_stored_total')).toBe(2);
    expect(sum(c, 'flowscope_export_requests_total', { code: '200' })).toBeGreaterThanOrEqual(1);
    // the same numbers the collector's own /metrics says; no histogram buckets
    const own = parsePrometheusText(await (await fetch(`${collectorUrl}/metrics`)).text());
    expect(sum(c, 'flowscope_spans_stored_total')).toBe(own.find((s) => s.name === 'flowscope_spans_stored_total')?.value);
    expect(c!.samples.some((s) => s.name.endsWith('_bucket'))).toBe(false);
    expect(c!.samples.every((s) => s.name.startsWith('flowscope_'))).toBe(true);
    // this process: healthy, ready on the database, its own metrics
    expect(by('query-api')).toMatchObject({ where: 'this process', health: { ok: true }, ready: { ok: true, detail: 'ready (database)' } });
    expect(by('query-api')!.samples.some((s) => s.name === 'flowscope_query_ws_clients')).toBe(true);
    expect(by('alerting')).toMatchObject({ where: 'not configured', url: null, samples: [], error: null });
  });

  it('never shows the credentials of a configured URL', async () => {
    const withCreds = collectorUrl.replace('http://', 'http://ops:s3cret@');
    const { body, by } = await system({ FLOWSCOPE_COLLECTOR_URL: withCreds });
    expect(by('collector')!.url).toBe(collectorUrl);
    expect(JSON.stringify(body)).not.toContain('s3cret');
    // and uses them: the collector does not ask for any, so it answers as usual
    expect(by('collector')).toMatchObject({ health: { ok: true }, error: null });
  });

  it('says what went wrong: a process that does not answer in time, a closed port, an answer over the size limit', async () => {
    const slow = await system({ FLOWSCOPE_COLLECTOR_URL: silentUrl, FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS: '50' });
    expect(slow.body.probe_timeout_ms).toBe(50);
    expect(slow.by('collector')).toMatchObject({ where: 'remote', health: { ok: false, status: null }, samples: [] });
    expect(slow.by('collector')!.error).toBe('no answer within 50 ms (FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS)');
    const closed = await system({ FLOWSCOPE_ALERTING_URL: closedUrl });
    expect(closed.by('alerting')!.error).toMatch(/^unreachable: ECONNREFUSED/);
    expect(closed.by('alerting')!.ready).toMatchObject({ ok: false, status: null });
    // the collector's /metrics is over 1 KiB (the smallest limit); its /health is not
    const big = await system({ FLOWSCOPE_COLLECTOR_URL: collectorUrl, FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES: '1024' });
    expect(big.by('collector')).toMatchObject({ health: { ok: true }, samples: [], error: 'answer larger than 1024 bytes (FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES)' });
  });

  it('the limits are refused outside their range', () => {
    expect(() => queryConfig({ FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES: '1023' })).toThrow(/FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES/);
    expect(() => queryConfig({ FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS: '49' })).toThrow(/FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS/);
    expect(() => queryConfig({ FLOWSCOPE_COLLECTOR_URL: 'not a url' })).toThrow(/FLOWSCOPE_COLLECTOR_URL/);
    expect(queryConfig({ FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES: '1024', FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS: '50' })).toMatchObject({ FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES: 1024, FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS: 50 });
  });

  it('in the all-in-one: the collector from its port, the alerting worker from the shared registry', async () => {
    const registry = new Registry();
    new Gauge({ name: 'flowscope_alerting_queue_jobs', help: 'jobs', labelNames: ['queue', 'state'], registers: [registry] }).set({ queue: 'evaluate', state: 'waiting' }, 3);
    const { by } = await system({}, { registry, system: { collectorUrl: () => collectorUrl, alertingInProcess: true } });
    expect(by('collector')).toMatchObject({ where: 'remote', url: collectorUrl, error: null });
    expect(sum(by('collector'), 'flowscope_spans_received_total')).toBe(2);
    expect(by('alerting')).toMatchObject({ where: 'this process', health: { ok: true }, ready: { ok: true } });
    expect(by('alerting')!.samples).toEqual([{ name: 'flowscope_alerting_queue_jobs', labels: { queue: 'evaluate', state: 'waiting' }, value: 3 }]);
    expect(by('query-api')!.samples.some((s) => s.name.startsWith('flowscope_alert'))).toBe(false);
  });

  it('needs a token', async () => {
    const app = await makeApp(db);
    apps.push(app);
    expect((await app.inject({ method: 'GET', url: '/api/v1/debugging/system' })).statusCode).toBe(401);
  });
});
