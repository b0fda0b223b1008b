/**
 * The Express and Fastify one-liners with the automatic HTTP instrumentation of the Node SDK:
 * real servers, real outgoing fetch calls, a real OTLP receiver. Test requests are sent with
 * tracing suppressed, so what the servers see is what an uninstrumented client would send.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_REDACT_KEYS as COLLECTOR_REDACT_KEYS, Redactor as CollectorRedactor } from '@flowscope/collector';
import { DEFAULT_REDACT_KEYS, REDACTED, Redactor, compileRoutes, initFlowscope } from '../src/index.ts';
import type { FlowscopeHandle, FlowscopeOptions } from '../src/index.ts';
import { startReceiver } from './receiver.ts';
import type { Receiver, ReceivedSpan } from './receiver.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

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

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A downstream service (instrumented by the same SDK, as every server in this process is). */
async function downstream(): Promise<{ url: string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const url = await listen(
    createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }),
  );
  return { url, seen };
}

/** A request from outside: no trace context of ours on it. */
function untraced(url: string, init?: RequestInit): Promise<Response> {
  return context.with(suppressTracing(context.active()), () => fetch(url, init));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function bySpanKind(spans: ReceivedSpan[], service: string): ReceivedSpan[] {
  return spans.filter((s) => s.service === service);
}

describe('Express one-liner', () => {
  it('makes, echoes and propagates the correlation id, and puts the routed workflow on every span', async () => {
    const collector = await receiver();
    const down = await downstream();
    const fs = init({ serviceName: 'orders', endpoint: collector.url, layer: 'api' });
    const app = express();
    app.use(fs.express({ routes: { 'POST /checkout': 'checkout', '/search/*': 'search' } }));
    app.use(express.json());
    app.post('/checkout', async (req, res) => {
      // After the body parser: the handler still runs in the request's workflow.
      const r = await fetch(`${down.url}/pay`, { method: 'POST', body: JSON.stringify(req.body) });
      res.json({ paid: ((await r.json()) as { ok: boolean }).ok, workflow: fs.currentWorkflow() });
    });
    app.get('/other', (_req, res) => void res.json({ workflow: fs.currentWorkflow() }));
    const url = await listen(app.listen(0, '127.0.0.1'));

    const made = await untraced(`${url}/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cart":1}' });
    const id = made.headers.get('x-correlation-id');
    expect(id).toMatch(UUID);
    expect(await made.json()).toEqual({ paid: true, workflow: { type: 'checkout', id } });
    expect(down.seen[0]?.['x-correlation-id']).toBe(id);
    expect(down.seen[0]?.baggage).toContain('workflow.type=checkout');
    expect(down.seen[0]?.baggage).toContain(`workflow.id=${id}`);

    const given = await untraced(`${url}/checkout`, { method: 'POST', headers: { 'x-correlation-id': 'corr-given-1', 'content-type': 'application/json' }, body: '{}' });
    expect(given.headers.get('x-correlation-id')).toBe('corr-given-1');
    expect(down.seen[1]?.['x-correlation-id']).toBe('corr-given-1');

    // The workflow-type header names the workflow of a route the map does not know.
    const typed = await untraced(`${url}/other`, { headers: { 'x-workflow-type': 'login' } });
    expect(((await typed.json()) as { workflow: unknown }).workflow).toEqual({ type: 'login', id: typed.headers.get('x-correlation-id') });
    // Upstream baggage wins over the route map.
    const upstream = await untraced(`${url}/checkout`, {
      method: 'POST',
      headers: { baggage: 'workflow.type=refund,workflow.id=up-7', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(upstream.headers.get('x-correlation-id')).toBe('up-7');
    expect(((await upstream.json()) as { workflow: unknown }).workflow).toEqual({ type: 'refund', id: 'up-7' });

    await fs.shutdown();
    const spans = collector.spans();
    const first = spans.filter((s) => s.attributes['workflow.id'] === id);
    // Server span of /checkout, its fetch client span, and the downstream server span: one trace.
    expect(first.map((s) => s.attributes['http.request.method'] ?? s.name).sort()).toEqual(['POST', 'POST', 'POST']);
    expect(new Set(first.map((s) => s.traceId)).size).toBe(1);
    for (const s of first) expect(s.attributes).toMatchObject({ 'workflow.type': 'checkout', 'app.layer': 'api' });
    const server = first.find((s) => s.parentSpanId === undefined);
    const client = first.find((s) => s.parentSpanId === server?.spanId);
    const down2 = first.find((s) => s.parentSpanId === client?.spanId);
    expect(server && client && down2).toBeTruthy();
    expect(bySpanKind(spans, 'orders').length).toBe(spans.length);
  });
});

describe('Fastify one-liner', () => {
  it('routes by the route pattern and keeps the workflow through body parsing into outgoing calls', async () => {
    const collector = await receiver();
    const down = await downstream();
    const fs = init({ serviceName: 'orders', endpoint: collector.url, layer: 'api' });
    const app = Fastify();
    await app.register(fs.fastify, { routes: { 'POST /orders/:id/pay': 'checkout' } });
    app.post('/orders/:id/pay', async (request) => {
      const r = await fetch(`${down.url}/pay`, { method: 'POST', body: JSON.stringify(request.body) });
      return { ok: ((await r.json()) as { ok: boolean }).ok, workflow: fs.currentWorkflow() };
    });
    cleanups.push(() => app.close());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const res = await untraced(`${url}/orders/42/pay`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': 'fst-1' }, body: '{"amount":3}' });
    expect(res.headers.get('x-correlation-id')).toBe('fst-1');
    expect(await res.json()).toEqual({ ok: true, workflow: { type: 'checkout', id: 'fst-1' } });
    expect(down.seen[0]?.['x-correlation-id']).toBe('fst-1');
    expect(down.seen[0]?.baggage).toContain('workflow.type=checkout');

    const unrouted = await untraced(`${url}/nothing-here`);
    expect(unrouted.status).toBe(404);
    expect(unrouted.headers.get('x-correlation-id')).toMatch(UUID);

    await fs.shutdown();
    const spans = collector.spans().filter((s) => s.attributes['workflow.id'] === 'fst-1');
    expect(spans).toHaveLength(3);
    for (const s of spans) expect(s.attributes['workflow.type']).toBe('checkout');
  });
});

describe('sanitisation at the source', () => {
  it('never sends a secret (named key, or inside a value, name or message) unredacted', async () => {
    const collector = await receiver();
    const fs = init({ serviceName: 'svc', endpoint: collector.url, defaultInstrumentations: false, redactValuePatterns: ['order-secret-[0-9]+'] });
    const secret = 'hunter2-s3cr3t-value';
    fs.withWorkflow('login', 'l-1', () => {
      const span = fs.tracer.startSpan(`GET /cb?access_token=${secret}`, {
        attributes: {
          'user.password': secret,
          'http.request.header.authorization': `Bearer ${secret}`,
          'url.full': `https://idp/cb?code=1&access_token=${secret}`,
          'db.statement': `SELECT * FROM users WHERE password_hash = '${secret}'`,
          'server.address': `postgres://app:${secret}@db/shop`,
          note: 'ref order-secret-42',
          'user.name': 'ada',
        },
      });
      span.addEvent(`retry with password=${secret}`, { 'db.connection.password': secret, attempt: 2, detail: `Bearer ${secret}` });
      span.setStatus({ code: 2, message: `login failed: token=${secret}` });
      span.end();
    });
    await fs.shutdown();
    const [span] = collector.spans();
    expect(span?.name).toBe(`GET /cb?access_token=${REDACTED}`);
    expect(span?.attributes).toMatchObject({
      'user.password': REDACTED,
      'http.request.header.authorization': REDACTED,
      'url.full': `https://idp/cb?code=${REDACTED}&access_token=${REDACTED}`,
      'db.statement': 'SELECT * FROM users WHERE password_hash = ?',
      'server.address': `postgres://${REDACTED}@db/shop`,
      note: `ref ${REDACTED}`,
      'user.name': 'ada',
    });
    const wire = JSON.stringify(collector.requests.map((r) => r.body));
    expect(wire).toContain('"attempt"');
    expect(wire).not.toContain(secret);
    expect(wire).not.toContain('order-secret-42');
    expect(wire).toContain(`login failed: token=${REDACTED}`);
  });

  it('refuses an invalid redactValuePatterns entry with one warning (no-op handle)', () => {
    const warnings: string[] = [];
    const fs = init({ serviceName: 'svc', redactValuePatterns: ['ok', '(unclosed'], logger: { warn: (m) => warnings.push(m) } });
    expect(fs.enabled).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('redactValuePatterns: "(unclosed" is not a valid regular expression');
  });

  it.each(['password', 'db.password', 'x-api-key', 'aws_secret_access_key', 'session_token', 'sessionId', 'http.request.header.cookie', 'user.id', 'token_count_x', 'passage'])(
    'classifies %s as the collector does',
    (key) => {
      expect(new Redactor().isSecret(key)).toBe(new CollectorRedactor().isSecret(key));
    },
  );

  it('uses the collector\'s default key fragments', () => {
    expect([...DEFAULT_REDACT_KEYS]).toEqual([...COLLECTOR_REDACT_KEYS]);
  });
});

describe('route map', () => {
  const match = compileRoutes({ 'POST /checkout': 'checkout', '/search': 'search', 'GET /orders/:id': 'order', '/api/*': 'api' });
  it.each([
    ['POST', '/checkout', 'checkout'],
    ['post', '/checkout/', 'checkout'],
    ['GET', '/checkout', undefined],
    ['GET', '/search', 'search'],
    ['DELETE', '/search', 'search'],
    ['GET', '/orders/17', 'order'],
    ['GET', '/orders/17/items', undefined],
    ['GET', '/api/a/b', 'api'],
    ['GET', '/apix', undefined],
  ])('%s %s → %s', (method, path, type) => {
    expect(match(method, path)).toBe(type);
  });
});
