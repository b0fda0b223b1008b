import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { auth, makeApp, makeTokens, testLogger, type Tokens } from './helpers.ts';
import { expectEnvelope, expectJaegerTraceShape } from './jaeger-shape.ts';

const micros = (t: [number, number]) => t[0] * 1_000_000 + Math.floor(t[1] / 1000);

describe('Jaeger endpoints for a trace exported by the real OpenTelemetry SDK', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let collector: Collector;
  let app: FastifyInstance;
  let tokens: Tokens;
  let base: string;
  const memory = new InMemorySpanExporter();
  let traceId: string;
  let finished: ReadableSpan[] = [];
  const workflowId = `sdk-checkout-${Date.now()}`;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    // rate 1: keep every trace (sampling is not what this test is about)
    collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: testLogger() });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(collector.app.server.address() as { port: number }).port}`;
    app = await makeApp(db);

    const providers: BasicTracerProvider[] = [];
    const tracer = (service: string) => {
      const p = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.version': '2.0.0' }),
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` })), new SimpleSpanProcessor(memory)],
      });
      providers.push(p);
      return p.getTracer('flowscope-query-api-test', '1.0.0');
    };
    const api = tracer('shop-api');
    const db_ = tracer('order-service');
    const wf = { 'workflow.type': 'checkout', 'workflow.id': workflowId };
    const server = api.startSpan('POST /api/checkout', { kind: SpanKind.SERVER, attributes: { ...wf, 'http.request.method': 'POST', 'http.response.status_code': 201 } });
    const ctx = trace.setSpan(context.active(), server);
    const order = db_.startSpan('INSERT orders', { kind: SpanKind.CLIENT, attributes: { ...wf, 'db.system': 'postgresql', 'db.rows': 1 } }, ctx); // wf: as baggage propagation sets it
    order.addEvent('row.inserted', { 'order.id': 'o-77', 'order.total': 12.5 });
    order.end();
    const err = new Error('stock check slow');
    err.name = 'SlowStock';
    server.recordException(err);
    server.setStatus({ code: SpanStatusCode.OK });
    server.end();
    traceId = server.spanContext().traceId;
    for (const p of providers) await p.forceFlush();
    finished = [...memory.getFinishedSpans()];
    for (const p of providers) await p.shutdown();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await collector?.close();
    await dispose?.();
  });

  const get = async (url: string) => {
    const res = await app.inject({ url, headers: auth(tokens.viewer) });
    expect(res.statusCode, url).toBe(200);
    return res.json() as { data: Record<string, unknown>[] } & Record<string, unknown>;
  };

  it('services and operations', async () => {
    const services = await get('/jaeger/api/services');
    expectEnvelope(services);
    expect(services.data).toEqual(['order-service', 'shop-api']);
    expect((await get('/jaeger/api/services/order-service/operations')).data).toEqual(['INSERT orders']);
  });

  it('search by workflow tags and fetch by id give the exact spans the SDK made', async () => {
    const search = await get(`/jaeger/api/traces?service=shop-api&tags=${encodeURIComponent(JSON.stringify({ 'workflow.type': 'checkout', 'workflow.id': workflowId }))}&lookback=1h&limit=20`);
    expectEnvelope(search);
    expect(search.data.map((t) => t.traceID)).toEqual([traceId]);
    const byId = await get(`/jaeger/api/traces/${traceId}`);
    expect(byId.data).toEqual(search.data);
    const t = byId.data[0]!;
    expectJaegerTraceShape(t);

    const sdkSpans = new Map(finished.map((s: ReadableSpan) => [s.spanContext().spanId, s]));
    const spans = t.spans as Record<string, unknown>[];
    expect(spans).toHaveLength(2);
    const processes = t.processes as Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
    for (const s of spans) {
      const sdk = sdkSpans.get(s.spanID as string)!;
      expect(sdk, `span ${String(s.spanID)}`).toBeDefined();
      expect(s.operationName).toBe(sdk.name);
      expect(s.startTime).toBe(micros(sdk.startTime));
      expect(s.duration).toBe(micros(sdk.endTime) - micros(sdk.startTime));
      const parent = sdk.parentSpanContext?.spanId;
      expect(s.references).toEqual(parent ? [{ refType: 'CHILD_OF', traceID: traceId, spanID: parent }] : []);
      const process = processes[s.processID as string]!;
      expect(process.serviceName).toBe(sdk.resource.attributes['service.name']);
      expect(process.tags).toEqual(expect.arrayContaining([{ key: 'service.version', type: 'string', value: '2.0.0' }]));
    }
    const server = spans.find((s) => s.operationName === 'POST /api/checkout')!;
    expect(server.tags).toEqual(expect.arrayContaining([
      { key: 'span.kind', type: 'string', value: 'server' },
      { key: 'workflow.type', type: 'string', value: 'checkout' },
      { key: 'workflow.id', type: 'string', value: workflowId },
      { key: 'http.response.status_code', type: 'int64', value: 201 },
      { key: 'otel.scope.name', type: 'string', value: 'flowscope-query-api-test' },
    ]));
    // the exception event became a log with its fields
    const exceptionLog = (server.logs as { fields: { key: string; value: unknown }[] }[]).find((l) => l.fields[0]!.value === 'exception')!;
    expect(exceptionLog.fields).toEqual(expect.arrayContaining([{ key: 'exception.type', type: 'string', value: 'SlowStock' }]));
    const insert = spans.find((s) => s.operationName === 'INSERT orders')!;
    const sdkInsert = [...sdkSpans.values()].find((s) => s.name === 'INSERT orders')!;
    expect(insert.logs).toEqual([
      {
        timestamp: micros(sdkInsert.events[0]!.time),
        fields: [
          { key: 'event', type: 'string', value: 'row.inserted' },
          { key: 'order.id', type: 'string', value: 'o-77' },
          { key: 'order.total', type: 'float64', value: 12.5 },
        ],
      },
    ]);
    expect(insert.tags).toEqual(expect.arrayContaining([{ key: 'span.kind', type: 'string', value: 'client' }, { key: 'app.layer', type: 'string', value: 'database' }]));
  });

  it('dependencies and the REST view of the same workflow', async () => {
    const deps = await get(`/jaeger/api/dependencies?endTs=${Date.now() + 60_000}&lookback=3600000`);
    expect(deps.data).toEqual([{ parent: 'shop-api', child: 'order-service', callCount: 1 }]);
    const wf = await get(`/api/v1/debugging/workflows/${workflowId}`);
    expect((wf.workflow as unknown as Record<string, unknown>).workflow_type).toBe('checkout');
    expect(wf.span_count).toBe(2);
    expect((wf.layer_breakdown as unknown as { layer: string }[]).map((l) => l.layer).sort()).toEqual(['api', 'database']);
  });
});
