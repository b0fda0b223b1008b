import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { UI_ROUTES } from '@flowscope/ui';
import { auth, loadDataset, makeApp, makeTokens, type Tokens } from './helpers.ts';

/** How the query API serves the UI (a stand-in build in a temp folder) and the API routes the UI uses. */
describe('the UI shell, its assets and the routes the UI reads', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let unbuilt: FastifyInstance;
  let tokens: Tokens;
  let dir: string;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    await loadDataset(db);
    tokens = await makeTokens(db);
    dir = await mkdtemp(join(tmpdir(), 'flowscope-ui-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>shell</title><script type="module" src="/assets/app-1.js"></script>');
    await writeFile(join(dir, 'assets', 'app-1.js'), 'console.log(1)');
    app = await makeApp(db, {}, { uiDir: dir });
    unbuilt = await makeApp(db, {}, { uiDir: join(dir, 'missing') });
  });
  afterAll(async () => {
    await app?.close();
    await unbuilt?.close();
    await dispose?.();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(['/', '/signin', '/workflows', '/workflows/wf%2Fx', '/traces/abc', '/errors', '/performance', '/alerts', '/alerts/7', '/system'])(
    '%s answers the page shell without a token, with the CSP',
    async (url) => {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<title>shell</title>');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options']).toBe('DENY');
    },
  );

  it('every UI route is covered above', () => {
    expect(UI_ROUTES.map((r) => r.path)).toEqual(['/', '/signin', '/workflows', '/workflows/:id', '/traces/:id', '/errors', '/performance', '/alerts', '/alerts/:id', '/system']);
  });

  it('serves hashed assets as immutable and refuses paths outside the build', async () => {
    const js = await app.inject('/assets/app-1.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await app.inject('/assets/nope.js')).statusCode).toBe(404);
    expect((await app.inject('/assets/..%2findex.html')).statusCode).not.toBe(200);
  });

  it('shadows nothing: the API, Jaeger, docs and ops routes answer as before', async () => {
    expect((await app.inject('/api/v1/debugging/workflows')).statusCode).toBe(401);
    expect((await app.inject('/jaeger/api/services')).statusCode).toBe(401);
    expect((await app.inject('/health')).json()).toEqual({ status: 'healthy' });
    expect((await app.inject('/workflows/a/b')).statusCode).toBe(401);
  });

  it('without a build the pages say how to build it (503)', async () => {
    const res = await unbuilt.inject('/workflows');
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('--filter @flowscope/ui build');
  });

  it('GET /me names the token and its role', async () => {
    expect((await app.inject({ url: '/api/v1/debugging/me', headers: auth(tokens.viewer) })).json()).toEqual({ name: 'viewer-test', role: 'viewer' });
    expect((await app.inject({ url: '/api/v1/debugging/me', headers: auth(tokens.admin) })).json()).toEqual({ name: 'admin-test', role: 'admin' });
    expect((await app.inject({ url: '/api/v1/debugging/me', headers: auth(tokens.revoked) })).statusCode).toBe(401);
  });

  it.each([
    ['-duration_ms', (d: number[]) => [...d].sort((a, b) => b - a)],
    ['duration_ms', (d: number[]) => [...d].sort((a, b) => a - b)],
  ])('GET /workflows?sort=%s orders the list', async (sort, expected) => {
    const res = await app.inject({ url: `/api/v1/debugging/workflows?sort=${sort}`, headers: auth(tokens.viewer) });
    expect(res.statusCode).toBe(200);
    const durations = (res.json().data as { duration_ms: number }[]).map((w) => w.duration_ms);
    expect(durations.length).toBeGreaterThan(2);
    expect(durations).toEqual(expected(durations));
  });

  it('GET /workflows refuses an unknown sort', async () => {
    expect((await app.inject({ url: '/api/v1/debugging/workflows?sort=password', headers: auth(tokens.viewer) })).statusCode).toBe(400);
  });
});
