import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ENDPOINT, initFlowscope, resolveConfig, withWorkflow } from '../src/index.ts';
import type { FlowscopeHandle, FlowscopeOptions } from '../src/index.ts';
import { startReceiver } from './receiver.ts';
import type { Receiver } from './receiver.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function recordingLogger(): { warn(message: string): void; messages: string[] } {
  const messages: string[] = [];
  return { messages, warn: (m: string) => void messages.push(m) };
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  cleanups.push(() => r.close());
  return r;
}

function init(options: FlowscopeOptions): FlowscopeHandle {
  const handle = initFlowscope(options);
  cleanups.push(() => handle.shutdown());
  return handle;
}

/**
 * A downstream "payments" service over real HTTP: it extracts the incoming context with its
 * own flowscope handle and starts a server span and a nested database span in it.
 */
async function paymentsService(
  flowscope: FlowscopeHandle,
): Promise<{ url: string; seen: IncomingHttpHeaders[]; workflows: unknown[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const workflows: unknown[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    const ctx = flowscope.extract(req.headers, ROOT_CONTEXT);
    context.with(ctx, () => {
      flowscope.tracer.startActiveSpan('POST /pay', { kind: SpanKind.SERVER }, (span) => {
        workflows.push(flowscope.currentWorkflow());
        flowscope.tracer.startSpan('SELECT payments', { attributes: { 'db.system': 'postgresql', 'app.layer': 'database' } }).end();
        span.end();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"paid":true}');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, workflows };
}

describe('workflow propagation across a real HTTP hop', () => {
  // Spans started by hand with explicit inject/extract: the automatic HTTP instrumentation is off
  // (the tests of middleware.test.ts cover it).
  it('puts workflow.type and workflow.id on the spans of the downstream service', async () => {
    const collector = await receiver();
    const upstream = init({ serviceName: 'checkout-api', endpoint: collector.url, layer: 'api', defaultInstrumentations: false });
    const downstream = init({ serviceName: 'payments', endpoint: collector.url, layer: 'service', register: false });
    const payments = await paymentsService(downstream);

    const { workflowId, serverSpanId, clientSpanId, traceId } = await upstream.withWorkflow(
      'checkout',
      undefined,
      ({ id }) =>
        upstream.tracer.startActiveSpan('POST /checkout', { kind: SpanKind.SERVER }, async (server) => {
          const client = upstream.tracer.startSpan('POST payments', { kind: SpanKind.CLIENT });
          const headers: Record<string, string> = {};
          upstream.inject(headers, trace.setSpan(context.active(), client));
          const response = await fetch(`${payments.url}/pay`, { method: 'POST', headers });
          expect(await response.json()).toEqual({ paid: true });
          client.end();
          server.end();
          return {
            workflowId: id,
            serverSpanId: server.spanContext().spanId,
            clientSpanId: client.spanContext().spanId,
            traceId: server.spanContext().traceId,
          };
        }),
    );
    await downstream.shutdown();
    await upstream.shutdown();

    expect(workflowId).toMatch(/^[0-9a-f-]{36}$/);
    // What travelled on the wire.
    expect(payments.seen).toHaveLength(1);
    const headers = payments.seen[0]!;
    expect(headers['x-correlation-id']).toBe(workflowId);
    expect(headers.traceparent).toBe(`00-${traceId}-${clientSpanId}-01`);
    expect(headers.baggage).toContain('workflow.type=checkout');
    expect(headers.baggage).toContain(`workflow.id=${workflowId}`);
    expect(payments.workflows).toEqual([{ type: 'checkout', id: workflowId }]);

    // What reached the collector, from both services.
    const spans = collector.spans();
    expect(collector.requests.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json')).toBe(true);
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['POST /checkout', 'POST /pay', 'POST payments', 'SELECT payments']);
    for (const span of spans) {
      expect(span.traceId).toBe(traceId);
      expect(span.attributes['workflow.type']).toBe('checkout');
      expect(span.attributes['workflow.id']).toBe(workflowId);
    }
    expect(byName.get('POST /checkout')).toMatchObject({ service: 'checkout-api', attributes: { 'app.layer': 'api' } });
    expect(byName.get('POST /pay')).toMatchObject({
      service: 'payments',
      parentSpanId: clientSpanId,
      attributes: { 'app.layer': 'service' },
    });
    expect(byName.get('POST payments')?.parentSpanId).toBe(serverSpanId);
    // An explicit app.layer wins over the configured one.
    expect(byName.get('SELECT payments')).toMatchObject({
      service: 'payments',
      parentSpanId: byName.get('POST /pay')?.spanId,
      attributes: { 'app.layer': 'database' },
    });
  });

  it('takes the workflow id from a bare X-Correlation-ID header', async () => {
    const collector = await receiver();
    const downstream = init({ serviceName: 'payments', endpoint: collector.url, defaultInstrumentations: false });
    const payments = await paymentsService(downstream);

    const response = await fetch(`${payments.url}/pay`, { method: 'POST', headers: { 'X-Correlation-ID': 'legacy-corr-42' } });
    expect(response.status).toBe(200);
    await downstream.shutdown();

    expect(payments.workflows).toEqual([{ type: undefined, id: 'legacy-corr-42' }]);
    const spans = collector.spans();
    expect(spans.map((s) => s.name).sort()).toEqual(['POST /pay', 'SELECT payments']);
    for (const span of spans) {
      expect(span.attributes['workflow.id']).toBe('legacy-corr-42');
      expect(span.attributes).not.toHaveProperty('workflow.type');
    }
  });

  it('prefers the baggage workflow id over the X-Correlation-ID header, and ignores an invalid header', () => {
    const fs = init({ serviceName: 'svc', endpoint: 'http://127.0.0.1:9' });
    const both = fs.extract({ baggage: 'workflow.id=from-baggage,workflow.type=login', 'x-correlation-id': 'from-header' }, ROOT_CONTEXT);
    expect(fs.currentWorkflow(both)).toEqual({ type: 'login', id: 'from-baggage' });
    const invalid = fs.extract({ 'x-correlation-id': 'has spaces in it' }, ROOT_CONTEXT);
    expect(fs.currentWorkflow(invalid)).toBeUndefined();
    const repeated = fs.extract({ 'x-correlation-id': ['first-id', 'second-id'] }, ROOT_CONTEXT);
    expect(fs.currentWorkflow(repeated)).toEqual({ type: undefined, id: 'first-id' });
  });

  it('injects nothing outside a workflow and trace', () => {
    const fs = init({ serviceName: 'svc', endpoint: 'http://127.0.0.1:9' });
    const headers: Record<string, string> = {};
    fs.inject(headers, ROOT_CONTEXT);
    expect(headers).toEqual({});
  });
});

describe('withWorkflow', () => {
  it('generates an id when none is given, keeps a given one, and nests', () => {
    const fs = init({ serviceName: 'svc', endpoint: 'http://127.0.0.1:9' });
    const generated = fs.withWorkflow('search', undefined, (wf) => ({ wf, active: fs.currentWorkflow() }));
    expect(generated.wf.type).toBe('search');
    expect(generated.wf.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(generated.active).toEqual(generated.wf);

    const other = fs.withWorkflow('search', undefined, (wf) => wf.id);
    expect(other).not.toBe(generated.wf.id);

    const nested = fs.withWorkflow('checkout', 'order-1', () => [
      fs.currentWorkflow(),
      fs.withWorkflow('payment', 'pay-1', () => fs.currentWorkflow()),
      fs.currentWorkflow(),
    ]);
    expect(nested).toEqual([
      { type: 'checkout', id: 'order-1' },
      { type: 'payment', id: 'pay-1' },
      { type: 'checkout', id: 'order-1' },
    ]);
    expect(fs.currentWorkflow()).toBeUndefined();
  });

  it('keeps the workflow across awaits, returns the promise, and lets errors through', async () => {
    const fs = init({ serviceName: 'svc', endpoint: 'http://127.0.0.1:9' });
    const result = await fs.withWorkflow('login', 'u-7', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return fs.currentWorkflow();
    });
    expect(result).toEqual({ type: 'login', id: 'u-7' });
    expect(() => fs.withWorkflow('login', 'u-8', () => {
      throw new Error('from fn');
    })).toThrow('from fn');
    await expect(fs.withWorkflow('login', 'u-9', () => Promise.reject(new Error('async fn')))).rejects.toThrow('async fn');
  });

  it('keeps explicit span attributes over baggage and the configured layer', async () => {
    const collector = await receiver();
    const fs = init({ serviceName: 'svc', endpoint: collector.url, layer: 'service' });
    fs.withWorkflow('checkout', 'c-1', () => {
      fs.tracer.startSpan('explicit', { attributes: { 'workflow.type': 'refund', 'app.layer': 'queue' } }).end();
      fs.tracer.startSpan('implicit').end();
      fs.tracer.startSpan('SELECT 1', { attributes: { 'db.system': 'postgresql' } }).end();
      fs.tracer.startSpan('publish orders', { attributes: { 'messaging.system': 'kafka' } }).end();
    });
    fs.tracer.startSpan('outside').end();
    await fs.forceFlush();
    const spans = new Map(collector.spans().map((s) => [s.name, s.attributes]));
    expect(spans.get('explicit')).toMatchObject({ 'workflow.type': 'refund', 'workflow.id': 'c-1', 'app.layer': 'queue' });
    expect(spans.get('implicit')).toMatchObject({ 'workflow.type': 'checkout', 'workflow.id': 'c-1', 'app.layer': 'service' });
    expect(spans.get('outside')).toEqual({ 'app.layer': 'service' });
    // Database and messaging client spans keep their own layer (inferred by the collector).
    expect(spans.get('SELECT 1')).toEqual({ 'db.system': 'postgresql', 'workflow.type': 'checkout', 'workflow.id': 'c-1' });
    expect(spans.get('publish orders')).not.toHaveProperty('app.layer');
  });

  it('runs fn without workflow context for an invalid type, warning once', () => {
    const logger = recordingLogger();
    const ran = withWorkflow('', 'id-1', () => propagation.getBaggage(context.active()), logger);
    expect(ran).toBeUndefined();
    expect(withWorkflow('bad type', undefined, () => 'still runs', logger)).toBe('still runs');
    expect(logger.messages).toHaveLength(1);
  });
});

describe('export configuration', () => {
  it('sends to OTEL_EXPORTER_OTLP_ENDPOINT when no endpoint is given, with the configured headers', async () => {
    const collector = await receiver();
    const fs = init({
      serviceName: 'env-configured',
      serviceVersion: '1.2.3',
      headers: { 'x-api-key': 'k-1' },
      resourceAttributes: { 'deployment.environment.name': 'test' },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/` },
    });
    expect(fs.enabled).toBe(true);
    fs.tracer.startSpan('one').end();
    await fs.shutdown();
    expect(collector.requests.map((r) => r.path)).toEqual(['/v1/traces']);
    expect(collector.requests[0]?.headers['x-api-key']).toBe('k-1');
    const body = JSON.stringify(collector.requests[0]?.body);
    expect(body).toContain('"1.2.3"');
    expect(body).toContain('deployment.environment.name');
    expect(collector.spans()).toMatchObject([{ service: 'env-configured', name: 'one' }]);
  });

  it.each([
    { name: 'default', options: {}, env: {}, url: `${DEFAULT_ENDPOINT}/v1/traces` },
    { name: 'base endpoint from env', options: {}, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' }, url: 'http://otel:4318/v1/traces' },
    {
      name: 'traces endpoint from env is used as is',
      options: {},
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://gw/otlp/traces' },
      url: 'https://gw/otlp/traces',
    },
    {
      name: 'explicit endpoint wins over env',
      options: { endpoint: 'http://collector:4318/base/' },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' },
      url: 'http://collector:4318/base/v1/traces',
    },
  ])('resolves the traces URL: $name', ({ options, env, url }) => {
    const result = resolveConfig({ serviceName: 's', ...options }, env);
    expect(result).toMatchObject({ ok: true, config: { tracesUrl: url, register: true, maxQueueSize: 2048 } });
  });
});

describe('never crashes its host', () => {
  it.each([
    { name: 'options missing', options: undefined, problem: 'options must be an object' },
    { name: 'empty service name', options: { serviceName: '  ' }, problem: 'serviceName' },
    { name: 'endpoint not a URL', options: { serviceName: 's', endpoint: 'not a url' }, problem: 'endpoint must be an http(s) URL' },
    { name: 'endpoint not http', options: { serviceName: 's', endpoint: 'ftp://collector' }, problem: 'endpoint must be an http(s) URL' },
    { name: 'unknown layer', options: { serviceName: 's', layer: 'mainframe' }, problem: 'layer must be one of' },
    { name: 'bad env endpoint', options: { serviceName: 's', env: { OTEL_EXPORTER_OTLP_ENDPOINT: '::' } }, problem: 'OTEL_EXPORTER_OTLP_ENDPOINT' },
    { name: 'bad queue size', options: { serviceName: 's', maxQueueSize: -1 }, problem: 'maxQueueSize' },
    { name: 'bad headers', options: { serviceName: 's', headers: { a: 1 } }, problem: 'headers' },
  ])('bad configuration ($name) warns once and returns a working no-op handle', async ({ options, problem }) => {
    const logger = recordingLogger();
    const opts = options === undefined ? undefined : { ...options, logger };
    const originalWarn = console.warn;
    if (options === undefined) console.warn = logger.warn;
    let fs: FlowscopeHandle;
    try {
      fs = initFlowscope(opts as unknown as FlowscopeOptions);
    } finally {
      console.warn = originalWarn;
    }
    expect(fs.enabled).toBe(false);
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toContain(problem);
    expect(fs.withWorkflow('checkout', 'c-1', () => 42)).toBe(42);
    const span = fs.tracer.startSpan('noop');
    expect(span.isRecording()).toBe(false);
    span.end();
    await expect(fs.forceFlush()).resolves.toBeUndefined();
    await expect(fs.shutdown()).resolves.toBeUndefined();
    // Nothing was registered globally: the global propagator is still the no-op one.
    expect(propagation.fields()).toEqual([]);
  });

  it('does not reject flush or shutdown when the collector is unreachable', async () => {
    const closed = await startReceiver();
    await closed.close(); // its port is now closed
    const logger = recordingLogger();
    const fs = init({ serviceName: 's', endpoint: closed.url, exportTimeoutMillis: 500, logger });
    fs.tracer.startSpan('lost').end();
    await expect(fs.forceFlush()).resolves.toBeUndefined();
    await expect(fs.shutdown()).resolves.toBeUndefined();
    expect(logger.messages.some((m) => m.includes('span export failed'))).toBe(true);
  });

  it('registers globally and undoes it on shutdown, which is safe twice', async () => {
    const fs = init({ serviceName: 's', endpoint: 'http://127.0.0.1:9' });
    expect(propagation.fields()).toEqual(['traceparent', 'tracestate', 'baggage', 'x-correlation-id']);
    expect(trace.getTracer('x').startSpan('recorded').isRecording()).toBe(true);
    await fs.shutdown();
    await fs.shutdown();
    expect(propagation.fields()).toEqual([]);
    expect(trace.getTracer('x').startSpan('not recorded').isRecording()).toBe(false);
  });

  it('a second registering handle warns and still exports through its own tracer', async () => {
    const collector = await receiver();
    const first = init({ serviceName: 'first', endpoint: collector.url });
    const logger = recordingLogger();
    const second = init({ serviceName: 'second', endpoint: collector.url, logger });
    expect(logger.messages).toHaveLength(1);
    expect(logger.messages[0]).toContain('already registered');
    second.tracer.startSpan('from second').end();
    await second.shutdown();
    expect(collector.spans()).toMatchObject([{ service: 'second', name: 'from second' }]);
    // The first registration is still in place after the second handle shut down.
    expect(propagation.fields()).toContain('x-correlation-id');
    await first.shutdown();
  });
});
