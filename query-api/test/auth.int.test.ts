import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, HTTPMethods, RouteOptions } from 'fastify';
import { Redis } from 'ioredis';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { UI_ROUTES } from '@flowscope/ui';
import { REDIS_URL, auth, loadDataset, makeApp, makeTokens, redisPrefix, type Tokens } from './helpers.ts';

const SAMPLE_PARAMS: Record<string, string> = {
  id: '1',
  workflowId: 'wf-checkout-1',
  traceId: 'a'.repeat(32),
  traceID: 'a'.repeat(32),
  service: 'api-gateway',
};

const concrete = (url: string) =>
  url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const v = SAMPLE_PARAMS[name];
    if (!v) throw new Error(`no sample value for route parameter :${name} (${url}) — add one`);
    return v;
  }).replace(/\*$/, 'index.html');

describe('authentication and roles on every registered route', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let tokens: Tokens;
  const routes: RouteOptions[] = [];

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    await loadDataset(db);
    tokens = await makeTokens(db);
    app = await makeApp(db, { WEBSOCKET_ENABLED: 'true' }, { routes });
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  const endpoints = () =>
    routes.flatMap((r) => [r.method].flat().map((method) => ({ method: method as string, url: r.url, role: r.config?.role, public: r.config?.public === true })));

  it('the route table is what we expect: public are only ops routes and the UI shell and assets (no data), every change needs admin', () => {
    const all = endpoints();
    expect(all.length).toBeGreaterThan(30);
    const uiPaths = UI_ROUTES.map((r) => r.path);
    expect([...new Set(all.filter((e) => e.public).map((e) => e.url))].sort()).toEqual(
      ['/health', '/metrics', '/ready', ...uiPaths, '/assets/*'].sort(),
    );
    for (const e of all) {
      if (e.method !== 'GET' && e.method !== 'HEAD') expect(e.role, `${e.method} ${e.url}`).toBe('admin');
    }
    expect(all.some((e) => e.url === '/ws/debugging/')).toBe(true);
    expect(all.some((e) => e.url.startsWith('/docs'))).toBe(true);
  });

  it('every non-public route refuses a missing, malformed, wrong, revoked or under-privileged token', async () => {
    const protectedRoutes = endpoints().filter((e) => !e.public);
    let checked = 0;
    for (const e of protectedRoutes) {
      const url = concrete(e.url);
      const method = e.method as HTTPMethods;
      const payload = method === 'GET' || method === 'HEAD' ? undefined : {};
      const send = (headers: Record<string, string>) => app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      const label = `${e.method} ${e.url}`;
      for (const headers of [
        {},
        { authorization: '' },
        { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
        { authorization: 'Bearer' },
        { authorization: 'Bearer fs_wrong_token_value_123456' },
        { authorization: `Bearer ${tokens.admin}x` },
        { authorization: `Bearer ${'x'.repeat(5000)}` },
        auth(tokens.revoked),
      ]) {
        const res = await send(headers);
        expect(res.statusCode, `${label} with ${JSON.stringify(headers).slice(0, 60)}`).toBe(401);
        if (method !== 'HEAD') {
          // Jaeger routes answer in Jaeger's error envelope, the rest in the flowscope one
          if (e.url.startsWith('/jaeger')) expect(res.json().errors, label).toEqual([{ code: 401, msg: expect.any(String) }]);
          else expect(res.json().code, label).toBe('FS_UNAUTHORIZED');
        }
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
      const viewer = await send(auth(tokens.viewer));
      if (e.role === 'admin') expect(viewer.statusCode, label).toBe(403);
      else expect([401, 403], label).not.toContain(viewer.statusCode);
      const admin = await send(auth(tokens.admin));
      expect([401, 403, 500], label).not.toContain(admin.statusCode);
      checked++;
    }
    expect(checked).toBe(protectedRoutes.length);
  });

  it('public routes answer without a token', async () => {
    expect((await app.inject('/health')).json()).toEqual({ status: 'healthy' });
    expect((await app.inject('/ready')).json()).toEqual({ status: 'ready' });
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('flowscope_query_auth_failures_total');
  });

  it('an unknown path without a token is 401 (route existence is not revealed), with one 404', async () => {
    expect((await app.inject('/api/v1/debugging/nope')).statusCode).toBe(401);
    expect((await app.inject({ url: '/api/v1/debugging/nope', headers: auth(tokens.viewer) })).statusCode).toBe(404);
  });

  it('a token revoked while in use stops working on the next request', async () => {
    const { createToken, revokeToken } = await import('../src/index.ts');
    const t = await createToken(db, { name: 'short-lived', role: 'viewer' });
    expect((await app.inject({ url: '/api/v1/debugging/workflows', headers: auth(t.token) })).statusCode).toBe(200);
    expect(await revokeToken(db, t.info.id)).toBe(true);
    expect((await app.inject({ url: '/api/v1/debugging/workflows', headers: auth(t.token) })).statusCode).toBe(401);
    const [row] = await db.query<{ last_used_at: string | null }>('SELECT last_used_at FROM api_tokens WHERE id = $1', [t.info.id]);
    expect(row!.last_used_at).not.toBeNull();
  });
});

describe('per-token rate limit', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let tokens: Tokens;
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  const apps: FastifyInstance[] = [];

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    await redis.connect();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    redis.disconnect();
    await dispose?.();
  });

  const get = (app: FastifyInstance, token: string) => app.inject({ url: '/api/v1/debugging/workflows', headers: auth(token) });

  it('in memory: the 4th request of a token in the window gets 429 with Retry-After; other tokens are unaffected', async () => {
    const app = await makeApp(db, { FLOWSCOPE_RATE_LIMIT_MAX: '3', FLOWSCOPE_RATE_LIMIT_WINDOW_MS: '60000' });
    apps.push(app);
    for (let i = 0; i < 3; i++) expect((await get(app, tokens.viewer)).statusCode).toBe(200);
    const limited = await get(app, tokens.viewer);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().code).toBe('FS_RATE_LIMITED');
    expect((await get(app, tokens.admin)).statusCode).toBe(200);
    expect((await app.inject('/health')).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await app.inject('/health')).statusCode).toBe(200);
  });

  it('with Redis: two replicas share one budget per token', async () => {
    const prefix = redisPrefix('ratelimit');
    const env = { FLOWSCOPE_RATE_LIMIT_MAX: '3', FLOWSCOPE_RATE_LIMIT_WINDOW_MS: '60000', FLOWSCOPE_REDIS_PREFIX: prefix };
    const a = await makeApp(db, env, { redis });
    const b = await makeApp(db, env, { redis });
    apps.push(a, b);
    expect((await get(a, tokens.viewer)).statusCode).toBe(200);
    expect((await get(a, tokens.viewer)).statusCode).toBe(200);
    expect((await get(b, tokens.viewer)).statusCode).toBe(200);
    const limited = await get(b, tokens.viewer);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await redis.keys(`${prefix}ratelimit:*`)).length).toBeGreaterThan(0);
    await redis.del(...(await redis.keys(`${prefix}*`)));
  });
});
