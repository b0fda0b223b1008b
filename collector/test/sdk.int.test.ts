import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode, type Context, type Span } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as OTLPHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Driver } from '@flowscope/storage/testing';
import { startCollector, type TestCollector } from './helpers.ts';

type ExporterKind = 'http-json' | 'http-proto';

const makeExporter = (kind: ExporterKind, url: string): SpanExporter =>
  kind === 'http-json' ? new OTLPHttpJsonExporter({ url }) : new OTLPProtoExporter({ url });

/**
 * A checkout as five services export it, each with its own SDK provider and exporter, the
 * trace context passed from caller to callee the way propagation would.
 */
async function runCheckout(kind: ExporterKind, url: string, workflowId: string) {
  const providers: BasicTracerProvider[] = [];
  const tracer = (service: string, extra: Record<string, string> = {}) => {
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, ...extra }),
      spanProcessors: [new BatchSpanProcessor(makeExporter(kind, url))],
    });
    providers.push(p);
    return p.getTracer('checkout-test');
  };
  const web = tracer('web-shop', { 'telemetry.sdk.language': 'webjs' });
  const gateway = tracer('api-gateway');
  const checkout = tracer('checkout-service');
  const wf = { 'workflow.type': 'checkout', 'workflow.id': workflowId };
  const child = (parent: Span): Context => trace.setSpan(context.active(), parent);

  const root = web.startSpan('checkout click', { attributes: { ...wf, 'enduser.id': 'user-42' } });
  const fetchSpan = web.startSpan(
    'POST /api/checkout',
    { kind: SpanKind.CLIENT, attributes: { ...wf, 'http.request.method': 'POST', 'url.full': 'https://shop/api/checkout' } },
    child(root),
  );
  const server = gateway.startSpan(
    'POST /api/checkout',
    { kind: SpanKind.SERVER, attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/api/checkout', password: 'pw' } },
    child(fetchSpan),
  );
  const order = checkout.startSpan('place order', { attributes: wf }, child(server));
  // Spans without workflow attributes: they inherit the workflow of their trace.
  const cart = checkout.startSpan('GET cart', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'redis' } }, child(order));
  cart.end();
  const insert = checkout.startSpan(
    'INSERT orders',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.statement': 'INSERT INTO orders …' } },
    child(order),
  );
  insert.end();
  const pay = checkout.startSpan(
    'POST payments',
    { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'POST', 'url.full': 'https://payments.example/charge' } },
    child(order),
  );
  const err = new Error('card declined');
  err.name = 'PaymentDeclined';
  pay.recordException(err);
  pay.setStatus({ code: SpanStatusCode.ERROR, message: 'card declined' });
  pay.end();
  order.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
  order.end();
  server.end();
  fetchSpan.end();
  root.end();
  const spanIds = {
    root: root.spanContext().spanId,
    fetch: fetchSpan.spanContext().spanId,
    server: server.spanContext().spanId,
    order: order.spanContext().spanId,
    cart: cart.spanContext().spanId,
    insert: insert.spanContext().spanId,
    pay: pay.spanContext().spanId,
  };
  for (const p of providers) await p.forceFlush();
  for (const p of providers) await p.shutdown();
  return { traceId: root.spanContext().traceId, spanIds };
}

const cases: [Driver, ExporterKind][] = [
  ['postgres', 'http-json'],
  ['postgres', 'http-proto'],
  ['pglite', 'http-proto'],
];

describe.each(cases)('a checkout exported by the OpenTelemetry SDK (%s, %s)', (driver, kind) => {
  let t: TestCollector;
  beforeAll(async () => {
    t = await startCollector(driver, {}, { listen: true });
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('stores every span with workflow, layer and parent, the error, and the session', async () => {
    const workflowId = `order-${driver}-${kind}`;
    const { traceId, spanIds } = await runCheckout(kind, `${t.base}/v1/traces`, workflowId);

    const rows = await t.db.query<{
      span_id: string;
      parent_span_id: string | null;
      workflow_id: string;
      workflow_type: string;
      layer: string;
      component: string;
      is_error: boolean;
      user_id: string | null;
      attributes: Record<string, unknown>;
    }>(
      `SELECT span_id, parent_span_id, workflow_id, workflow_type, layer, component, is_error, user_id, attributes
         FROM trace_steps WHERE trace_id = $1`,
      [traceId],
    );
    const byId = new Map(rows.map((r) => [r.span_id, r]));
    expect(rows).toHaveLength(7);
    const expectSpan = (id: string, layer: string, component: string, parent: string | null, isError = false) =>
      expect(byId.get(id), `${component} ${layer}`).toMatchObject({
        layer,
        component,
        parent_span_id: parent,
        workflow_id: workflowId,
        workflow_type: 'checkout',
        is_error: isError,
      });
    expectSpan(spanIds.root, 'frontend', 'web-shop', null);
    expectSpan(spanIds.fetch, 'frontend', 'web-shop', spanIds.root);
    expectSpan(spanIds.server, 'api', 'api-gateway', spanIds.fetch);
    expectSpan(spanIds.order, 'service', 'checkout-service', spanIds.server, true);
    expectSpan(spanIds.cart, 'cache', 'checkout-service', spanIds.order);
    expectSpan(spanIds.insert, 'database', 'checkout-service', spanIds.order);
    expectSpan(spanIds.pay, 'external', 'checkout-service', spanIds.order, true);
    expect(byId.get(spanIds.root)!.user_id).toBe('user-42');
    expect(byId.get(spanIds.server)!.attributes.password).toBe('***REDACTED***');

    const errors = await t.db.query<{ span_id: string; seq: number; error_type: string; message: string; layer: string; correlation_id: string; stack: string | null }>(
      `SELECT span_id, seq, error_type, message, layer, correlation_id, stack FROM error_logs WHERE trace_id = $1 ORDER BY span_id, seq`,
      [traceId],
    );
    const payErrors = errors.filter((e) => e.span_id === spanIds.pay);
    expect(payErrors.map((e) => [e.seq, e.error_type, e.message, e.layer, e.correlation_id])).toEqual([
      [0, 'PaymentDeclined', 'card declined', 'external', workflowId],
    ]);
    // one row per failing span: its exception event's stack is merged into it
    expect(payErrors[0]!.stack).toMatch(/PaymentDeclined: card declined/);
    expect(errors.filter((e) => e.span_id === spanIds.order).map((e) => e.message)).toEqual(['payment failed']);

    const [session] = await t.db.query<{ workflow_type: string; status: string; span_count: number; error_count: number; user_id: string; first_trace_id: string }>(
      `SELECT workflow_type, status, span_count, error_count, user_id, first_trace_id FROM workflow_sessions WHERE workflow_id = $1`,
      [workflowId],
    );
    expect(session).toEqual({
      workflow_type: 'checkout',
      status: 'failed',
      span_count: 7,
      error_count: 2,
      user_id: 'user-42',
      first_trace_id: traceId,
    });
  });
});
