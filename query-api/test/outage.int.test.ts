import { createServer, connect, type Server, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openPostgres, type Database } from '@flowscope/storage';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { auth, makeApp, makeTokens, type Tokens } from './helpers.ts';

/**
 * A TCP relay in front of the real PostgreSQL: stopping it is PostgreSQL going away for this
 * test only (the server itself is shared with every other test file).
 */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: number) {}
  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Issue 13 (5): while PostgreSQL is down the query API answers 503 with Retry-After, not 500. */
describe('query API while the database is down', () => {
  let t: TestDatabase;
  let relay: Relay;
  let db: Database;
  let app: FastifyInstance;
  let tokens: Tokens;
  beforeAll(async () => {
    t = await createTestDatabase();
    const url = new URL(t.url);
    relay = new Relay(Number(url.port || 5432));
    await relay.start();
    url.port = String(relay.port);
    db = openPostgres({ url: url.toString(), maxConnections: 2 });
    await migrate(db);
    tokens = await makeTokens(db);
    app = await makeApp(db, { FLOWSCOPE_RETRY_AFTER_SECONDS: '9' });
  });
  afterAll(async () => {
    await app.close();
    await db.close();
    await relay.stop().catch(() => {});
    await t.drop();
  });

  it('answers 503 + Retry-After on REST and Jaeger routes, and 200 again once it is back', async () => {
    const urls = ['/api/v1/debugging/workflows', '/api/v1/debugging/errors', '/jaeger/api/services'];
    for (const url of urls) expect((await app.inject({ method: 'GET', url, headers: auth(tokens.admin) })).statusCode).toBe(200);
    await relay.stop();
    for (const url of urls) {
      const res = await app.inject({ method: 'GET', url, headers: auth(tokens.admin) });
      expect(res.statusCode, url).toBe(503);
      expect(res.headers['retry-after']).toBe('9');
      expect(res.body).toContain('storage is unavailable');
    }
    await relay.start();
    for (const url of urls) expect((await app.inject({ method: 'GET', url, headers: auth(tokens.admin) })).statusCode).toBe(200);
  });
});
