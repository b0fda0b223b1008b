/**
 * The inventory service (Node, `service` layer): products and stock in PostgreSQL
 * (SHOP_DATABASE_URL), or in embedded PostgreSQL (PGlite, in memory) when none is given.
 * Every query is a database client span (db.system postgresql, db.statement).
 *
 *   GET  /search?q=…     products whose name matches
 *   GET  /stock?sku=…    stock of one product
 *   POST /reserve        {"items":[{"sku","qty"}]} → takes the stock (409 when short)
 *
 * Faults: slow-db (the query sleeps SHOP_SLOW_MS), error (500), timeout (the answer comes after
 * SHOP_SLOW_MS × 3, past the orders API's call timeout).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { faultsFor, sleep, slowMs } from './faults.ts';
import { listen, startFlowscope } from './service.ts';

const flowscope = startFlowscope('inventory', 'service');
const fault = faultsFor('inventory');
const slow = slowMs();

interface Db {
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

async function openDb(): Promise<{ db: Db; kind: string }> {
  const url = process.env.SHOP_DATABASE_URL;
  if (url) {
    const { default: postgres } = await import('postgres');
    const sql = postgres(url, { max: 4, onnotice: () => undefined });
    return { db: { query: async <T>(text: string, params: unknown[] = []) => [...(await sql.unsafe(text, params as never[]))] as T[], close: () => sql.end() }, kind: 'postgresql' };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = new PGlite();
  return { db: { query: async <T>(text: string, params: unknown[] = []) => (await lite.query<T>(text, params)).rows, close: () => lite.close() }, kind: 'embedded PGlite' };
}

const PRODUCTS: Array<[string, string, number, number]> = [
  ['tea-green', 'Green tea', 450, 1000],
  ['tea-black', 'Black tea', 390, 1000],
  ['tea-mint', 'Mint tea', 420, 1000],
  ['mug', 'Tea mug', 1200, 500],
  ['kettle', 'Kettle', 3900, 200],
];

const { db, kind } = await openDb();
await db.query('CREATE TABLE IF NOT EXISTS shop_products (sku text PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL, stock int NOT NULL)');
for (const [sku, name, price, stock] of PRODUCTS) {
  await db.query('INSERT INTO shop_products (sku, name, price_cents, stock) VALUES ($1, $2, $3, $4) ON CONFLICT (sku) DO UPDATE SET stock = GREATEST(shop_products.stock, 100)', [sku, name, price, stock]);
}

/** One query as a database client span. */
async function query<T>(operation: string, text: string, params: unknown[]): Promise<T[]> {
  return flowscope.tracer.startActiveSpan(
    `${operation} shop_products`,
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.statement': text, 'db.operation': operation, 'db.name': 'shop' } },
    async (span) => {
      try {
        if (fault('slow-db')) await db.query('SELECT pg_sleep($1)', [slow / 1000]);
        return await db.query<T>(text, params);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

async function body(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const middleware = flowscope.express();

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://inventory');
  if (url.pathname === '/health') return send(res, 200, { ok: true });
  if (fault('timeout')) await sleep(slow * 3);
  if (fault('error')) throw new Error('inventory: stock ledger unavailable (injected fault)');
  if (req.method === 'GET' && url.pathname === '/search') {
    const q = `%${(url.searchParams.get('q') ?? '').toLowerCase()}%`;
    return send(res, 200, { products: await query('SELECT', 'SELECT sku, name, price_cents FROM shop_products WHERE lower(name) LIKE $1 ORDER BY sku', [q]) });
  }
  if (req.method === 'GET' && url.pathname === '/stock') {
    const rows = await query<{ stock: number; price_cents: number }>('SELECT', 'SELECT stock, price_cents FROM shop_products WHERE sku = $1', [url.searchParams.get('sku')]);
    return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'unknown sku' });
  }
  if (req.method === 'POST' && url.pathname === '/reserve') {
    const { items } = (await body(req)) as { items?: Array<{ sku: string; qty: number }> };
    let total = 0;
    for (const item of items ?? []) {
      const rows = await query<{ price_cents: number }>('UPDATE', 'UPDATE shop_products SET stock = stock - $2 WHERE sku = $1 AND stock >= $2 RETURNING price_cents', [item.sku, item.qty]);
      if (!rows[0]) return send(res, 409, { error: `not enough ${item.sku}` });
      total += rows[0].price_cents * item.qty;
    }
    return send(res, 200, { reserved: true, totalCents: total });
  }
  send(res, 404, { error: 'not found' });
}

const server = createServer((req, res) => {
  middleware(req, res, () => {
    handle(req, res).catch((error: unknown) => {
      const span = trace.getActiveSpan();
      span?.recordException(error as Error);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      if (!res.headersSent) send(res, 500, { error: (error as Error).message });
    });
  });
});
process.stderr.write(`inventory: products in ${kind}\n`);
await listen(server, flowscope, () => db.close());
