/**
 * The web entry in a real browser (Debian's Chromium through playwright-core): a page whose
 * script is `@flowscope/instrumentation/web` bundled with esbuild exports its page load and API
 * call spans with the OpenTelemetry web SDK and OTLP/HTTP exporter to a real flowscope collector
 * (embedded PostgreSQL) on another origin, allowed by FLOWSCOPE_CORS_ORIGINS. The page's backend
 * (the Express-style middleware on a Node handle) continues the trace and the workflow. A page on
 * an origin the collector does not list is refused by the browser itself.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import { build } from 'esbuild';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';
import type { Collector } from '@flowscope/collector';
import { openTestDatabase } from '@flowscope/storage/testing';
import type { Database } from '@flowscope/storage';
import { initFlowscope } from '../src/index.ts';
import type { FlowscopeHandle } from '../src/index.ts';

const CHROMIUM = process.env.FLOWSCOPE_TEST_CHROMIUM ?? '/usr/bin/chromium';

interface PageServer {
  origin: string;
  server: Server;
}

let db: Database;
let disposeDb: () => Promise<void>;
let collector: Collector;
let endpoint = '';
let api: FlowscopeHandle;
let script = '';
let allowed: PageServer;
let other: PageServer;
let browser: BrowserContext;
let profile: string;

/** Serves the page, its bundled script and the API it calls (a Node service with the middleware). */
async function pageServer(serviceName: string): Promise<PageServer> {
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html lang="en"><head><title>shop</title></head><body><h1>shop</h1>` +
          `<script>window.FLOWSCOPE_PAGE = ${JSON.stringify({ serviceName, endpoint })};</script>` +
          `<script type="module" src="/app.js"></script></body></html>`,
      );
      return;
    }
    if (req.url === '/app.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
      return;
    }
    if (req.method === 'POST' && req.url === '/api/checkout') {
      api.express({ routes: { 'POST /api/checkout': 'checkout' } })(req, res, () => {
        api.tracer.startActiveSpan('POST /api/checkout', { kind: SpanKind.SERVER }, (span) => {
          const workflow = api.currentWorkflow();
          span.end();
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: true, traceId: span.spanContext().traceId, workflow }));
        });
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closeServer(s: PageServer | undefined): Promise<void> {
  if (!s) return;
  s.server.closeAllConnections();
  await new Promise<void>((resolve) => s.server.close(() => resolve()));
}

interface Row {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  component: string;
  layer: string;
  workflow_type: string;
  workflow_id: string;
}

const rowsOf = (component: string): Promise<Row[]> =>
  db.query<Row>(
    'SELECT trace_id, span_id, parent_span_id, name, component, layer, workflow_type, workflow_id FROM trace_steps WHERE component = $1 ORDER BY start_time',
    [component],
  );

/** Flushes the page's spans until `done` holds for what is stored (the document load spans end a moment after load). */
async function flushUntil(page: Page, component: string, done: (rows: Row[]) => boolean): Promise<Row[]> {
  for (let i = 0; i < 100; i++) {
    await page.evaluate(() => (globalThis as unknown as { flowscopeTest: { flush(): Promise<void> } }).flowscopeTest.flush());
    const rows = await rowsOf(component);
    if (done(rows)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return rowsOf(component);
}

interface CheckoutResult {
  workflow: { type: string; id: string };
  status: number;
  correlationId: string | null;
  body: { ok: boolean; traceId: string; workflow: { type?: string; id?: string } };
}

const checkout = (page: Page): Promise<CheckoutResult> =>
  page.evaluate(() => (globalThis as unknown as { flowscopeTest: { checkout(): Promise<CheckoutResult> } }).flowscopeTest.checkout());

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`);
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/web-page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  script = bundle.outputFiles[0]!.text;

  allowed = await pageServer('storefront');
  other = await pageServer('storefront-elsewhere');
  const t = await openTestDatabase('pglite');
  db = t.db;
  disposeDb = () => t.dispose();
  collector = buildCollector({
    db,
    config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1', FLOWSCOPE_CORS_ORIGINS: allowed.origin }),
    logger: pino({ level: 'silent' }),
  });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  endpoint = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
  api = initFlowscope({ serviceName: 'shop-api', endpoint, layer: 'api', defaultInstrumentations: false, scheduledDelayMillis: 100 });

  profile = await mkdtemp(join(tmpdir(), 'flowscope-web-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
  await api?.shutdown();
  await closeServer(allowed);
  await closeServer(other);
  await collector?.close();
  await disposeDb?.();
});

describe('@flowscope/instrumentation/web in Chromium', () => {
  it('exports page load and API call spans across origins; the backend continues the trace and workflow', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`${allowed.origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as { flowscopeTest?: { enabled: boolean } }).flowscopeTest?.enabled === true);

    const result = await checkout(page);
    expect(result.status).toBe(200);
    // The correlation id the backend answers with is the browser's workflow id.
    expect(result.correlationId).toBe(result.workflow.id);
    expect(result.body.workflow).toEqual({ type: 'checkout', id: result.workflow.id });
    await api.forceFlush();

    const isDone = (rows: Row[]): boolean => rows.some((r) => r.name === 'documentLoad') && rows.some((r) => r.workflow_type === 'checkout');
    const rows = await flushUntil(page, 'storefront', isDone);
    expect(problems).toEqual([]);

    // Every browser span is a frontend span.
    expect(rows.length).toBeGreaterThan(1);
    expect(new Set(rows.map((r) => r.layer))).toEqual(new Set(['frontend']));

    // The page load is its own workflow (type page_load), one id for all its spans.
    const pageLoad = rows.filter((r) => r.workflow_type === 'page_load');
    expect(pageLoad.map((r) => r.name)).toEqual(expect.arrayContaining(['documentLoad', 'documentFetch']));
    expect(new Set(pageLoad.map((r) => r.workflow_id)).size).toBe(1);
    expect(pageLoad[0]!.workflow_id).not.toBe(result.workflow.id);

    // The API call is a span of the checkout workflow, the parent of the backend's server span.
    const call = rows.filter((r) => r.workflow_type === 'checkout');
    expect(call).toHaveLength(1);
    expect(call[0]).toMatchObject({ workflow_id: result.workflow.id, trace_id: result.body.traceId });
    const backend = await rowsOf('shop-api');
    expect(backend).toEqual([
      {
        trace_id: call[0]!.trace_id,
        span_id: expect.any(String),
        parent_span_id: call[0]!.span_id,
        name: 'POST /api/checkout',
        component: 'shop-api',
        layer: 'api',
        workflow_type: 'checkout',
        workflow_id: result.workflow.id,
      },
    ]);
    const sessions = await db.query<{ workflow_type: string; span_count: number }>(
      'SELECT workflow_type, span_count FROM workflow_sessions WHERE workflow_id = $1',
      [result.workflow.id],
    );
    expect(sessions).toEqual([{ workflow_type: 'checkout', span_count: 2 }]);
    await page.close();
  });

  it('a page on an origin not in FLOWSCOPE_CORS_ORIGINS is refused by the browser', async () => {
    const page = await browser.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    await page.goto(`${other.origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as { flowscopeTest?: { enabled: boolean } }).flowscopeTest?.enabled === true);

    // A direct POST from this origin: the preflight is refused, so fetch rejects without a response.
    const raw = await page.evaluate(() => (globalThis as unknown as { flowscopeTest: { rawExport(): Promise<string> } }).flowscopeTest.rawExport());
    expect(raw).toMatch(/^refused: TypeError/);
    expect(console.some((line) => line.includes('blocked by CORS policy'))).toBe(true);

    // The page's own API call still works and its backend span is stored; the browser's spans are not.
    const result = await checkout(page);
    expect(result.status).toBe(200);
    await api.forceFlush();
    await page.evaluate(() => (globalThis as unknown as { flowscopeTest: { flush(): Promise<void> } }).flowscopeTest.flush());
    const backend = await db.query<{ workflow_id: string }>('SELECT workflow_id FROM trace_steps WHERE component = $1 AND workflow_id = $2', [
      'shop-api',
      result.workflow.id,
    ]);
    expect(backend).toHaveLength(1);
    expect(await rowsOf('storefront-elsewhere')).toEqual([]);
    await page.close();
  });
});
