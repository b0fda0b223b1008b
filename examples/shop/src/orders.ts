/**
 * The orders API (Node, Express, `api` layer) and the storefront page it serves. The
 * flowscope middleware plays the old correlation id / workflow tracing / performance
 * middlewares: the route map names the workflow of each request.
 *
 *   GET  /                 the storefront page (the web entry, bundled with esbuild at start)
 *   POST /api/login        {"user"} → a session in the cart store
 *   GET  /api/search?q=…   → inventory
 *   POST /api/cart         {"session","sku","qty"} → inventory stock, then the cart store
 *   POST /api/checkout     {"session"} → cart, inventory reservation, payment
 *
 * The cart store is Redis (SHOP_REDIS_URL) or an in-process map; payments go to the payment
 * service at SHOP_PAYMENT_URL (the Django one) or are answered here. Calls to other services
 * time out after SHOP_CALL_TIMEOUT_MS (default 2000) with 504.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { build } from 'esbuild';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { faultsFor, sleep, slowMs } from './faults.ts';
import { listen, startFlowscope } from './service.ts';

const flowscope = startFlowscope('orders-api', 'api');
const fault = faultsFor('orders');
const cartFault = faultsFor('cart');
const paymentFault = faultsFor('payment');
const slow = slowMs();
const inventoryUrl = process.env.SHOP_INVENTORY_URL ?? 'http://127.0.0.1:3001';
const paymentUrl = process.env.SHOP_PAYMENT_URL;
const callTimeoutMs = Number(process.env.SHOP_CALL_TIMEOUT_MS ?? '2000');
if (!Number.isInteger(callTimeoutMs) || callTimeoutMs <= 0) throw new Error('SHOP_CALL_TIMEOUT_MS must be a positive integer');

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// --- cart store ------------------------------------------------------------------------------
interface CartStore {
  system: string;
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  close(): Promise<void>;
}

async function openCart(): Promise<CartStore> {
  const url = process.env.SHOP_REDIS_URL;
  const prefix = process.env.SHOP_REDIS_PREFIX ?? 'shop:';
  if (url) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    return {
      system: 'redis',
      get: (key) => redis.get(prefix + key),
      set: async (key, value) => void (await redis.set(prefix + key, value, 'EX', 3600)),
      close: async () => void (await redis.quit()),
    };
  }
  const map = new Map<string, string>();
  return { system: 'in-process', get: (key) => Promise.resolve(map.get(key) ?? null), set: (key, value) => Promise.resolve(void map.set(key, value)), close: () => Promise.resolve() };
}

const cart = await openCart();

/** One cart operation as a cache client span. */
function cartOp<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  const attributes = cart.system === 'redis' ? { 'db.system': 'redis', 'db.operation': operation } : { 'app.layer': 'cache', 'db.operation': operation };
  return flowscope.tracer.startActiveSpan(`cart ${operation}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      if (cartFault('slow-db') || cartFault('timeout')) await sleep(slow);
      if (cartFault('error')) throw new Error('cart: store refused the command (injected fault)');
      return await fn();
    } catch (error) {
      failSpan(span, error);
      throw new HttpError(503, (error as Error).message);
    } finally {
      span.end();
    }
  });
}

function failSpan(span: Span | undefined, error: unknown): void {
  span?.recordException(error as Error);
  span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
}

// --- calls to other services (fetch: traced and propagated by the undici instrumentation) ------
async function call<T>(url: string, init: RequestInit = {}): Promise<T> {
  let response: globalThis.Response;
  try {
    response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers }, signal: AbortSignal.timeout(callTimeoutMs) });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw new HttpError(504, `${new URL(url).pathname} timed out after ${callTimeoutMs} ms`);
    throw new HttpError(502, `${new URL(url).pathname} unreachable: ${(error as Error).message}`);
  }
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new HttpError(response.status >= 500 ? 502 : response.status, body.error ?? `${new URL(url).pathname} answered ${response.status}`);
  return body;
}

async function pay(order: string, amountCents: number): Promise<{ paid: boolean; by: string }> {
  if (paymentUrl) return call(`${paymentUrl}/pay`, { method: 'POST', body: JSON.stringify({ order, amount_cents: amountCents }) });
  // No payment service: the orders API answers payments itself, in a span of its own.
  return flowscope.tracer.startActiveSpan('payment.charge', { attributes: { 'payment.amount_cents': amountCents, 'app.layer': 'service' } }, async (span) => {
    try {
      if (paymentFault('timeout')) {
        await sleep(callTimeoutMs + 100);
        throw new HttpError(504, `payment timed out after ${callTimeoutMs} ms`);
      }
      if (paymentFault('slow-db')) await sleep(slow);
      if (paymentFault('error')) throw new HttpError(502, 'payment: card declined by the processor (injected fault)');
      return { paid: true, by: 'orders-api' };
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

// --- the page ---------------------------------------------------------------------------------
const page = await build({
  entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  // The workspace's sources (the published package resolves to its dist/ without it).
  conditions: ['flowscope-source'],
  target: 'es2022',
  write: false,
  logLevel: 'silent',
});
const pageScript = page.outputFiles[0]!.text;
const collectorForBrowser = process.env.SHOP_BROWSER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>flowscope tea shop</title></head>
<body><main><h1>flowscope tea shop</h1>
<p><button id="login">Log in</button> <button id="search">Search tea</button> <button id="add">Add green tea</button> <button id="checkout">Check out</button></p>
<output id="result" aria-live="polite"></output></main>
<script>window.SHOP = ${JSON.stringify({ endpoint: collectorForBrowser })};</script>
<script type="module" src="/app.js"></script></body></html>`;

// --- routes -----------------------------------------------------------------------------------
const app = express();
app.use(flowscope.express({ routes: { 'POST /api/login': 'login', 'GET /api/search': 'search', 'POST /api/cart': 'add_to_cart', 'POST /api/checkout': 'checkout' } }));
app.use(express.json());

const route =
  (fn: (req: Request) => Promise<unknown>) =>
  (req: Request, res: Response, next: NextFunction): void => {
    (async () => {
      if (fault('timeout')) await sleep(slow * 3);
      if (fault('slow-db')) await sleep(slow);
      if (fault('error')) throw new Error(`orders: ${req.path} failed (injected fault)`);
      res.json(await fn(req));
    })().catch(next);
  };

app.get('/health', (_req, res) => void res.json({ ok: true }));
app.get('/', (_req, res) => void res.type('html').send(html));
app.get('/app.js', (_req, res) => void res.type('text/javascript').send(pageScript));

app.post(
  '/api/login',
  route(async (req) => {
    const user = String((req.body as { user?: string }).user ?? 'guest').slice(0, 64);
    const session = randomUUID();
    await cartOp('SET', () => cart.set(`session:${session}`, JSON.stringify({ user, items: [] })));
    return { session, user };
  }),
);

app.get(
  '/api/search',
  route(async (req) => call(`${inventoryUrl}/search?q=${encodeURIComponent(String(req.query.q ?? ''))}`)),
);

async function session(id: unknown): Promise<{ user: string; items: Array<{ sku: string; qty: number }> }> {
  const raw = await cartOp('GET', () => cart.get(`session:${String(id)}`));
  if (!raw) throw new HttpError(401, 'unknown session: log in first');
  return JSON.parse(raw) as { user: string; items: Array<{ sku: string; qty: number }> };
}

app.post(
  '/api/cart',
  route(async (req) => {
    const { session: id, sku, qty = 1 } = req.body as { session?: string; sku?: string; qty?: number };
    const s = await session(id);
    const stock = await call<{ stock: number }>(`${inventoryUrl}/stock?sku=${encodeURIComponent(String(sku))}`);
    if (stock.stock < qty) throw new HttpError(409, `only ${stock.stock} ${sku} left`);
    s.items.push({ sku: String(sku), qty });
    await cartOp('SET', () => cart.set(`session:${String(id)}`, JSON.stringify(s)));
    return { items: s.items };
  }),
);

app.post(
  '/api/checkout',
  route(async (req) => {
    const id = (req.body as { session?: string }).session;
    const s = await session(id);
    if (s.items.length === 0) throw new HttpError(400, 'the cart is empty');
    const order = randomUUID();
    const reserved = await call<{ totalCents: number }>(`${inventoryUrl}/reserve`, { method: 'POST', body: JSON.stringify({ items: s.items }) });
    const payment = await pay(order, reserved.totalCents);
    await cartOp('SET', () => cart.set(`session:${String(id)}`, JSON.stringify({ ...s, items: [] })));
    return { order, totalCents: reserved.totalCents, payment };
  }),
);

app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  void _next;
  const status = error instanceof HttpError ? error.status : 500;
  const span = trace.getActiveSpan();
  if (status >= 500) failSpan(span, error);
  res.status(status).json({ error: (error as Error).message });
});

const server = createServer(app);
if (!paymentUrl) process.stderr.write('orders-api: no payment service (SHOP_PAYMENT_URL unset): the orders API answers payments itself\n');
await listen(server, flowscope, () => cart.close());
