import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { writeSpans, type Database, type SpanRecord } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { uiBuilt } from '@flowscope/ui';
import { LocalEventBus } from '../src/index.ts';
import { parsePrometheusText } from '../src/system.ts';
import { makeApp, makeTokens, testLogger, type Tokens } from './helpers.ts';
import { expectAccessible, launchChromium, newPage, saveScreenshot, type Browser } from './browser.ts';

/**
 * The UI in a real Chromium against the real query API, collector and PostgreSQL, with data
 * sent by the OpenTelemetry SDK. Selects by role and label, as a person would.
 */
describe('the browser UI', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let collector: Collector;
  let app: FastifyInstance;
  let tokens: Tokens;
  let browser: Browser;
  let ui: string;
  let otlp: string;
  const run = Date.now().toString(36);
  const okId = `ui-ok-${run}`;
  const failedId = `ui-failed-${run}`;
  const bigId = `ui-big-${run}`;
  const slowId = `ui-slow-search-${run}`;
  const retriedId = `ui-retried-${run}`;
  let retriedTraces: [string, string];

  /** One workflow through the SDK: an API span over a database query and a payment call that fails when asked. */
  async function sendWorkflow(id: string, type: string, fail: boolean): Promise<void> {
    const providers: BasicTracerProvider[] = [];
    const tracer = (service: string) => {
      const p = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.4.2', 'deployment.environment': 'test' }),
        spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` }))],
      });
      providers.push(p);
      return p.getTracer('flowscope-ui-test', '1.0.0');
    };
    const wf = { 'workflow.type': type, 'workflow.id': id, 'user.id': 'u-1042' };
    const api = tracer('shop-api');
    const orders = tracer('order-service');
    const payments = tracer('payment-service');
    // explicit times, as a real checkout takes them (ms after t0)
    const t0 = Date.now() - 1000;
    const at = (ms: number) => new Date(t0 + ms);
    const server = api.startSpan('POST /api/checkout', { kind: SpanKind.SERVER, startTime: at(0), attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/api/checkout' } });
    const ctx = trace.setSpan(context.active(), server);
    const q = orders.startSpan('INSERT orders', { kind: SpanKind.CLIENT, startTime: at(12), attributes: { ...wf, 'db.system': 'postgresql', 'db.operation.name': 'INSERT' } }, ctx);
    q.end(at(38));
    const charge = payments.startSpan('charge card', { kind: SpanKind.CLIENT, startTime: at(45), attributes: { ...wf, 'app.layer': 'external', 'peer.service': 'card-gateway' } }, ctx);
    if (fail) {
      const err = new Error('card gateway answered 502 Bad Gateway');
      err.name = 'PaymentGatewayError';
      err.stack = `PaymentGatewayError: card gateway answered 502 Bad Gateway\n    at chargeCard (/srv/payment/src/charge.ts:41:11)\n    at processPayment (/srv/payment/src/index.ts:88:5)`;
      charge.recordException(err, at(390));
      charge.setStatus({ code: SpanStatusCode.ERROR, message: 'card gateway answered 502' });
    }
    charge.end(at(fail ? 391 : 160));
    if (fail) server.setStatus({ code: SpanStatusCode.ERROR, message: 'payment failed' });
    server.end(at(fail ? 402 : 171));
    for (const p of providers) await p.forceFlush();
    for (const p of providers) await p.shutdown();
  }

  /**
   * Searches through the SDK: an API span over one database query. `dbMs` per run; the normal
   * runs make the per-operation baselines the slow one's suspects are measured against.
   */
  async function sendSearches(runs: { id: string; at: number; dbMs: number }[]): Promise<void> {
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'search-api' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` }), { maxQueueSize: 10_000, maxExportBatchSize: 1000 })],
    });
    const tracer = p.getTracer('flowscope-ui-test', '1.0.0');
    for (const r of runs) {
      const wf = { 'workflow.type': 'search', 'workflow.id': r.id };
      const root = tracer.startSpan('GET /api/search', { kind: SpanKind.SERVER, startTime: new Date(r.at), attributes: { ...wf, 'http.request.method': 'GET', 'http.route': '/api/search' } });
      const q = tracer.startSpan('SELECT products', { kind: SpanKind.CLIENT, startTime: new Date(r.at + 2), attributes: { ...wf, 'db.system': 'postgresql', 'db.operation.name': 'SELECT' } }, trace.setSpan(context.active(), root));
      q.end(new Date(r.at + 2 + r.dbMs));
      root.end(new Date(r.at + 4 + r.dbMs));
    }
    await p.forceFlush();
    await p.shutdown();
  }

  /** A workflow whose first attempt failed and whose retry (a new trace, linked to the first) succeeded. Returns both trace ids. */
  async function sendRetried(id: string): Promise<[string, string]> {
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'export-worker' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` }))],
    });
    const tracer = p.getTracer('flowscope-ui-test', '1.0.0');
    const wf = { 'workflow.type': 'export', 'workflow.id': id };
    const t0 = Date.now() - 120_000;
    const first = tracer.startSpan('run export', { kind: SpanKind.CONSUMER, startTime: new Date(t0), attributes: wf }, context.active());
    first.setStatus({ code: SpanStatusCode.ERROR, message: 'worker lost' });
    first.end(new Date(t0 + 50));
    const retry = tracer.startSpan('run export (retry 1)', { kind: SpanKind.CONSUMER, startTime: new Date(t0 + 1000), attributes: wf, links: [{ context: first.spanContext(), attributes: { 'retry.of': 'run export' } }] }, context.active());
    retry.end(new Date(t0 + 1080));
    await p.forceFlush();
    await p.shutdown();
    return [first.spanContext().traceId, retry.spanContext().traceId];
  }

  /** A 10,000-span workflow: an API span over 99 service calls of 100 queries each. */
  function bigWorkflow(id: string): SpanRecord[] {
    const traceId = Buffer.from(run.padEnd(16, '0').slice(0, 16)).toString('hex');
    const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
    const ms = (n: number) => BigInt(Math.round(n * 1e6));
    const sid = (n: number) => n.toString(16).padStart(16, '0');
    const base = {
      traceId, workflowId: id, workflowType: 'report', kind: 1, statusCode: 0, statusMessage: null, isError: false, userId: 'u-7',
      scopeName: 'big', attributes: {}, events: [], links: [],
    };
    const out: SpanRecord[] = [{ ...base, spanId: sid(1), parentSpanId: null, layer: 'api', component: 'report-api', name: 'GET /report', startUnixNano: t0, endUnixNano: t0 + ms(5000), resource: { 'service.name': 'report-api' } }];
    let n = 2;
    for (let i = 0; i < 99; i++) {
      const callId = sid(n++);
      const start = t0 + ms(10 + i * 50);
      out.push({ ...base, spanId: callId, parentSpanId: sid(1), layer: 'service', component: 'ledger', name: `load page ${i}`, startUnixNano: start, endUnixNano: start + ms(45), resource: { 'service.name': 'ledger' } });
      for (let j = 0; j < 100; j++) {
        const qs = start + ms(0.4 * j);
        out.push({ ...base, spanId: sid(n++), parentSpanId: callId, layer: 'database', component: 'ledger', name: `SELECT entries ${i}.${j}`, startUnixNano: qs, endUnixNano: qs + ms(0.35), resource: { 'service.name': 'ledger' } });
      }
    }
    return out;
  }

  beforeAll(async () => {
    if (!uiBuilt()) throw new Error('the UI is not built: run `npx pnpm@10.34.8 ui:build` (the test command does it first)');
    ({ db, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    const events = new LocalEventBus();
    collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: testLogger(), events });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    otlp = `http://127.0.0.1:${(collector.app.server.address() as { port: number }).port}`;
    app = await makeApp(db, { FLOWSCOPE_BASELINE_CACHE_MS: '0', FLOWSCOPE_COLLECTOR_URL: otlp }, { events });
    await app.listen({ host: '127.0.0.1', port: 0 });
    ui = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await sendWorkflow(okId, 'checkout', false);
    await sendWorkflow(failedId, 'checkout', true);
    retriedTraces = await sendRetried(retriedId);
    await writeSpans(db, { spans: bigWorkflow(bigId), errors: [] });
    // 40 usual searches (8–12 ms in the database) over the last quarter hour, then one whose query took 400 ms
    const t0 = Date.now() - 15 * 60_000;
    await sendSearches([
      ...Array.from({ length: 40 }, (_, i) => ({ id: `ui-search-${run}-${i}`, at: t0 + i * 15_000, dbMs: 8 + (i % 5) })),
      { id: slowId, at: Date.now() - 90_000, dbMs: 400 },
    ]);
    browser = await launchChromium();
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await collector?.close();
    await dispose?.();
  });

  const signIn = async (page: Awaited<ReturnType<typeof newPage>>, token: string) => {
    await page.goto(`${ui}/signin`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
  };

  it('refuses a bad token with a message on the page, accepts a good one, and signs out', async () => {
    const page = await newPage(browser, 'signin');
    const res = await page.goto(`${ui}/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    // no token: the sign-in page, remembering where the person wanted to go
    await expect.poll(() => new URL(page.url()).pathname).toBe('/signin');
    await expectAccessible(page, 'sign-in');
    await page.getByLabel('API token').fill('fs_not_a_real_token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not accepted');
    await page.getByLabel('API token').fill(tokens.revoked);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('revoked');
    await expectAccessible(page, 'sign-in with an error');

    await page.getByLabel('API token').fill(tokens.viewer);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
    expect(page.url()).not.toContain(tokens.viewer);
    expect(await page.getByText('viewer-test').isVisible()).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to flowscope' }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length)).toBe(0);
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it('lists the workflows the OpenTelemetry SDK sent through the collector, and opens one', async () => {
    const page = await newPage(browser, 'workflows');
    await signIn(page, tokens.viewer);
    const runs = page.getByRole('table', { name: 'Workflow runs' });
    await runs.getByRole('link', { name: okId }).waitFor();
    await runs.getByRole('link', { name: failedId }).waitFor();
    // counts by status and per-type figures over the range
    const summary = page.getByRole('region', { name: 'Summary of the range' });
    await expect.poll(() => summary.getByRole('button', { name: /Failed/ }).textContent()).toMatch(/^[1-9]\d*Failed$/);
    const byType = summary.getByRole('table', { name: 'By workflow type' });
    expect(await byType.getByRole('row', { name: /checkout/ }).textContent()).toMatch(/%/);
    await expectAccessible(page, 'workflows');
    await saveScreenshot(page, 'ui-workflows');
    // the failed run's likely cause, in one line: where the failure started
    const failedRow = runs.getByRole('row', { name: new RegExp(failedId) });
    const failedCause = failedRow.getByRole('cell').last();
    expect(await failedCause.textContent()).toMatch(/^error\b.* payment-service · charge card$/);
    expect(await failedCause.locator('[title]').getAttribute('title')).toMatch(/^payment-service charge card failed/);
    expect(await runs.getByRole('row', { name: new RegExp(okId) }).getByRole('cell').last().textContent()).toBe('—');
    // filter: failed only
    await page.getByLabel('Status').selectOption('failed');
    await expect.poll(() => new URL(page.url()).searchParams.get('status')).toBe('failed');
    await expect.poll(() => runs.getByRole('link', { name: okId }).count()).toBe(0);
    expect(await runs.getByRole('link', { name: failedId }).count()).toBe(1);
    await runs.getByRole('link', { name: failedId }).click();
    await page.getByRole('heading', { level: 1, name: new RegExp(failedId) }).waitFor();
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it("a failed workflow's page marks the failing span, shows its exception stack and its error", async () => {
    const page = await newPage(browser, 'failed-workflow');
    await signIn(page, tokens.viewer);
    await page.goto(`${ui}/workflows/${failedId}`);
    const spans = page.getByRole('list', { name: 'Spans' });
    const failing = spans.getByRole('button', { name: /^payment-service charge card, .*, error/ });
    await failing.waitFor();
    expect(await spans.getByRole('button', { name: /^order-service INSERT orders, (?!.*error)/ }).count()).toBe(1);
    // the errors of the workflow, and the span they happened in
    const errors = page.getByRole('region', { name: /^Errors/ });
    await errors.getByText('card gateway answered 502 Bad Gateway').first().waitFor();
    await failing.click();
    const detail = page.getByRole('complementary', { name: 'Span detail' });
    await detail.getByRole('heading', { name: /charge card/ }).waitFor();
    const stack = detail.getByLabel('Exception stack trace');
    expect(await stack.textContent()).toContain('at chargeCard (/srv/payment/src/charge.ts:41:11)');
    expect(await detail.getByLabel('Resource').textContent()).toContain('payment-service');
    await expectAccessible(page, 'workflow page');
    await saveScreenshot(page, 'ui-workflow');
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it("a slow database query is the likely cause: in the list, and as the banner of the workflow's page", async () => {
    const page = await newPage(browser, 'suspects');
    await signIn(page, tokens.viewer);
    await page.goto(`${ui}/workflows?type=search`);
    const runs = page.getByRole('table', { name: 'Workflow runs' });
    const row = runs.getByRole('row', { name: new RegExp(slowId) });
    await row.waitFor();
    const cause = row.getByRole('cell').last();
    expect(await cause.textContent()).toMatch(/^slow, \d+(\.\d)?× usual search-api · SELECT products$/);
    expect(await cause.locator('[title]').getAttribute('title')).toMatch(/^search-api SELECT products took 400 ms, /);
    // the usual runs have none
    expect(await runs.getByRole('row', { name: new RegExp(`ui-search-${run}-39`) }).getByRole('cell').last().textContent()).toBe('—');

    await row.getByRole('link', { name: slowId }).click();
    const banner = page.getByRole('region', { name: 'Likely causes' });
    await banner.waitFor();
    const first = banner.getByRole('listitem').first();
    expect(await first.textContent()).toMatch(/search-api · SELECT products \(database, on the critical path\): search-api SELECT products took 400 ms, \d+(\.\d)?× its usual [\d.]+ ms \(p95 [\d.]+ ms\), adding [\d.]+ ms to the critical path\./);
    expect(await first.locator('.badge').textContent()).toMatch(/^slow, /);
    await first.getByRole('button', { name: 'Show span search-api · SELECT products' }).click();
    const detail = page.getByRole('complementary', { name: 'Span detail' });
    await detail.getByRole('heading', { name: /SELECT products/ }).waitFor();
    expect(await detail.getByText('400 ms (self 400 ms)', { exact: true }).count()).toBe(1);
    await expectAccessible(page, 'workflow page with suspects');
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it("a retried workflow's page shows both traces, the retry linked to the first attempt", async () => {
    const page = await newPage(browser, 'retried');
    await signIn(page, tokens.viewer);
    await page.goto(`${ui}/workflows/${retriedId}`);
    const spans = page.getByRole('list', { name: 'Spans' });
    await spans.getByRole('button', { name: /^export-worker run export \(retry 1\),/ }).waitFor();
    expect(await spans.getByRole('button', { name: /^export-worker run export, .*error/ }).count()).toBe(1);
    expect(await page.locator('dl[aria-label="Summary"] > div', { hasText: /^Traces/ }).locator('dd').textContent()).toBe('2');
    await spans.getByRole('button', { name: /^export-worker run export \(retry 1\),/ }).click();
    const detail = page.getByRole('complementary', { name: 'Span detail' });
    const link = detail.getByRole('link', { name: `trace ${retriedTraces[0]}` });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(`/traces/${retriedTraces[0]}`);
    expect(retriedTraces[0]).not.toBe(retriedTraces[1]);
    await link.click();
    await page.getByRole('heading', { level: 1, name: new RegExp(retriedTraces[0]) }).waitFor();
    // the first attempt's trace alone
    await page.getByRole('list', { name: 'Spans' }).getByRole('button', { name: /^export-worker run export, / }).waitFor();
    expect(await page.getByRole('list', { name: 'Spans' }).getByRole('button', { name: /retry 1/ }).count()).toBe(0);
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it('an unknown correlation id shows a not-found page', async () => {
    const page = await newPage(browser, 'not-found');
    await signIn(page, tokens.viewer);
    await page.goto(`${ui}/workflows/no-such-workflow-${run}`);
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    expect(await page.getByText(`no-such-workflow-${run}`).count()).toBe(1);
    await expectAccessible(page, 'not found');
    await page.close();
  });
  it('a new workflow appears live, without a reload, and not while paused; the token is never in the stream URL', async () => {
    const page = await newPage(browser, 'live');
    // every WebSocket the page opens, and the subprotocols its handshake offered
    const sockets: string[] = [];
    const offered: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    // what the server's handshake saw (an extra listener only observes)
    const onUpgrade = (req: { url?: string; headers: Record<string, string | string[] | undefined> }) => offered.push(`${req.url} ${String(req.headers['sec-websocket-protocol'])}`);
    app.server.on('upgrade', onUpgrade);
    await signIn(page, tokens.viewer);
    await page.getByText('Live', { exact: true }).waitFor();
    expect(sockets.length).toBeGreaterThan(0);
    for (const url of sockets) {
      expect(new URL(url).pathname).toBe('/ws/debugging/');
      expect(url).not.toContain(tokens.viewer);
      expect(new URL(url).search).toBe('');
    }
    // the handshake offered the token as a subprotocol (so the stream could authenticate), not in the URL
    expect(offered.length).toBeGreaterThan(0);
    for (const o of offered) expect(o).toBe(`/ws/debugging/ flowscope.v1, flowscope.token.${tokens.viewer}`);
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const runs = page.getByRole('table', { name: 'Workflow runs' });
    const liveId = `ui-live-${run}`;
    await sendWorkflow(liveId, 'login', true);
    await runs.getByRole('link', { name: liveId }).waitFor({ timeout: 15_000 });
    // paused: the next one waits, counted, until resumed
    await page.getByRole('button', { name: 'Pause live updates' }).click();
    const pausedId = `ui-paused-${run}`;
    await sendWorkflow(pausedId, 'login', false);
    await page.getByText(/Live updates paused \(\d+ new events?\)/).waitFor({ timeout: 15_000 });
    expect(await runs.getByRole('link', { name: pausedId }).count()).toBe(0);
    await page.getByRole('button', { name: 'Resume live updates' }).click();
    await runs.getByRole('link', { name: pausedId }).waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    app.server.off('upgrade', onUpgrade);
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it('an admin resolves an error; a viewer has no resolve control', async () => {
    const viewer = await newPage(browser, 'errors-viewer');
    await signIn(viewer, tokens.viewer);
    await viewer.getByRole('link', { name: 'Errors' }).click();
    const list = viewer.getByRole('region', { name: 'Error list' });
    await list.getByText('card gateway answered 502 Bad Gateway').first().waitFor();
    expect(await list.getByRole('button', { name: /^Resolve/ }).count()).toBe(0);
    await expectAccessible(viewer, 'errors');
    await viewer.close();

    const page = await newPage(browser, 'errors-admin');
    await signIn(page, tokens.admin);
    await page.goto(`${ui}/workflows/${failedId}`);
    const errors = page.getByRole('region', { name: /^Errors/ });
    const resolve = errors.getByRole('button', { name: /^Resolve PaymentGatewayError/ });
    await resolve.first().waitFor();
    const before = await resolve.count();
    await resolve.first().click();
    await expect.poll(() => resolve.count()).toBe(before - 1);
    const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM error_logs WHERE correlation_id = $1 AND resolved AND resolved_by = 'admin-test'", [failedId]);
    expect(row!.n).toBe(1);
    expect(page.problems).toEqual([]);
    await page.close();
  });

  it('a viewer cannot edit a rule (no control); an admin can', async () => {
    const created = await app.inject({
      method: 'POST', url: '/api/v1/debugging/alert-rules', headers: { authorization: `Bearer ${tokens.admin}` },
      payload: { name: `ui checkout p95 ${run}`, metric: 'duration_ms:p95', workflow_type: 'checkout', layer: 'api', warning_threshold: 200, critical_threshold: 500 },
    });
    expect(created.statusCode).toBe(201);
    const ruleName = `ui checkout p95 ${run}`;
    const viewer = await newPage(browser, 'rules-viewer');
    await signIn(viewer, tokens.viewer);
    await viewer.goto(`${ui}/alerts`);
    const rules = viewer.getByRole('table', { name: 'Alert rules' });
    await rules.getByText(ruleName).waitFor();
    expect(await rules.getByRole('button').count()).toBe(0);
    expect(await viewer.getByText('Rules are changed with an admin token.').count()).toBe(1);
    await expectAccessible(viewer, 'alerts');
    await viewer.close();

    const admin = await newPage(browser, 'rules-admin');
    await signIn(admin, tokens.admin);
    await admin.goto(`${ui}/alerts`);
    await admin.getByRole('button', { name: `Edit rule ${ruleName}` }).click();
    const form = admin.getByRole('form', { name: `Edit rule ${ruleName}` });
    await form.getByLabel('Warning').fill('250');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await db.query<{ w: number }>('SELECT warning_threshold::float8 AS w FROM alert_rules WHERE name = $1', [ruleName]))[0]?.w).toBe(250);
    expect(admin.problems).toEqual([]);
    await admin.close();
  });

  it('a 10,000-span workflow opens, virtualised, and scrolls to its last span', async () => {
    const page = await newPage(browser, 'big-workflow');
    await signIn(page, tokens.viewer);
    await page.goto(`${ui}/workflows/${bigId}`);
    await page.getByText('10,000 of 10,000 spans shown').waitFor({ timeout: 30_000 });
    const spans = page.getByRole('list', { name: 'Spans' });
    const drawn = await spans.getByRole('listitem').count();
    expect(drawn).toBeGreaterThan(10);
    expect(drawn).toBeLessThan(200);
    await page.getByRole('region', { name: 'Span timeline' }).evaluate((el) => {
      (el as unknown as { scrollTop: number; scrollHeight: number }).scrollTop = (el as unknown as { scrollHeight: number }).scrollHeight;
    });
    await spans.getByRole('button', { name: /^ledger SELECT entries 98\.99,/ }).waitFor();
    // collapsing the root (back at the top) leaves one row
    await page.getByRole('region', { name: 'Span timeline' }).evaluate((el) => {
      (el as unknown as { scrollTop: number }).scrollTop = 0;
    });
    await page.getByRole('button', { name: /^Collapse GET \/report/ }).click();
    await page.getByText('1 of 10,000 spans shown').waitFor();
    await expectAccessible(page, 'big workflow');
    await page.close();
  });

  it('every other page passes the accessibility check: trace, performance, system, one alert', async () => {
    const page = await newPage(browser, 'pages');
    await signIn(page, tokens.admin);
    const [t] = await db.query<{ trace_id: string }>('SELECT first_trace_id AS trace_id FROM workflow_sessions WHERE workflow_id = $1', [failedId]);
    await page.goto(`${ui}/traces/${t!.trace_id}`);
    await page.getByRole('list', { name: 'Spans' }).getByRole('button', { name: /charge card/ }).waitFor();
    await expectAccessible(page, 'trace');
    await page.goto(`${ui}/performance?layer=api`);
    await page.getByRole('img', { name: /p50, p95 and p99 latency of api spans/ }).locator('canvas').waitFor();
    expect(await page.getByText(/warning 200 ms, critical 500 ms/).count()).toBeGreaterThan(0);
    await expectAccessible(page, 'performance');
    // per component: one p95 line each, and a table whose rows filter the charts (as alert-email links do with ?component=)
    await page.goto(`${ui}/performance?layer=database`);
    const perComponent = page.getByRole('region', { name: 'By component (database spans)' });
    await perComponent.getByRole('img', { name: 'p95 latency of database spans per component with the warning and critical thresholds' }).locator('canvas').waitFor();
    const legend = await perComponent.locator('.u-legend').textContent();
    expect(legend).toContain('search-api');
    expect(legend).toContain('order-service');
    expect(legend).toContain('critical 100 ms');
    const searchRow = perComponent.getByRole('table', { name: 'Components of the database layer' }).getByRole('row', { name: /^search-api / });
    expect(await searchRow.getByRole('cell').nth(1).textContent()).toBe('41');
    expect(await searchRow.getByRole('cell').nth(3).textContent()).toBe('400 ms');
    await searchRow.getByRole('button', { name: 'search-api' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('component')).toBe('search-api');
    await page.getByText(/^41 database spans in search-api in the range/).waitFor();
    await page.getByRole('img', { name: 'p50, p95 and p99 latency of database spans in search-api with the warning and critical thresholds' }).locator('canvas').waitFor();
    await saveScreenshot(page, 'ui-performance');
    await expectAccessible(page, 'performance by component');
    await page.goto(`${ui}/system`);
    // the collector's counters, read by the query API from FLOWSCOPE_COLLECTOR_URL: what the collector itself says
    const own = parsePrometheusText(await (await fetch(`${otlp}/metrics`)).text());
    const count = (name: string) => own.filter((x) => x.name === name).reduce((a, x) => a + x.value, 0).toLocaleString('en-US');
    const collectorState = page.getByRole('region', { name: 'Collector' }).getByRole('definition');
    await collectorState.first().waitFor();
    const pairs = await page.getByRole('region', { name: 'Collector' }).locator('dl > div').evaluateAll((els) => els.map((e) => (e as unknown as { innerText: string }).innerText.split('\n')));
    const shown = Object.fromEntries(pairs.map(([k, v]) => [k, v]));
    expect(shown['Liveness (/health)']).toBe('healthy');
    expect(shown['Spans received']).toBe(count('flowscope_spans_received_total'));
    expect(shown['Spans stored']).toBe(count('flowscope_spans_stored_total'));
    expect(Number(shown['Spans stored']?.replace(/,/g, ''))).toBeGreaterThan(40);
    expect(shown['Spans sampled out']).toBe(count('flowscope_spans_sampled_out_total'));
    expect(shown['Spans refused']).toBe(count('flowscope_spans_refused_total'));
    expect(shown.Storage).toBe('reachable');
    expect(await page.getByRole('region', { name: 'Alerting worker' }).getByText('Not configured: set FLOWSCOPE_ALERTING_URL on the query API to see it here.').count()).toBe(1);
    expect(await page.getByRole('region', { name: 'Query API' }).getByText('healthy', { exact: true }).count()).toBe(1);
    await saveScreenshot(page, 'ui-system');
    await expectAccessible(page, 'system');
    await page.goto(`${ui}/alerts/999999`);
    await page.getByRole('alert').waitFor();
    await expectAccessible(page, 'alert');
    expect(page.problems).toEqual([]);
    await page.close();
  });
});
