import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { UI_ROUTES } from '@flowscope/ui';
import { BASE, auth, loadDataset, makeApp, makeTokens, type Tokens } from './helpers.ts';

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

  it('GET /workflow-stats counts runs by status and, per type, throughput, error rate and p95, as the sessions say', async () => {
    const from = new Date(BASE - 3600_000).toISOString();
    const to = new Date(BASE + 3600_000).toISOString();
    const res = await app.inject({ url: `/api/v1/debugging/workflow-stats?from=${from}&to=${to}`, headers: auth(tokens.viewer) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { by_status: Record<string, number>; by_type: { workflow_type: string; count: number; failed: number; error_rate: number; per_minute: number; p95_ms: number | null }[] };
    const sessions = await db.query<{ workflow_type: string; status: string; duration_ms: number | null }>(
      'SELECT workflow_type, status, duration_ms FROM workflow_sessions WHERE started_at >= $1 AND started_at < $2', [from, to]);
    expect(sessions.length).toBeGreaterThan(2);
    const byStatus: Record<string, number> = {};
    for (const s of sessions) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
    expect(body.by_status).toEqual(byStatus);
    const checkout = sessions.filter((s) => s.workflow_type === 'checkout');
    const c = body.by_type.find((t) => t.workflow_type === 'checkout')!;
    expect(c.count).toBe(checkout.length);
    expect(c.failed).toBe(checkout.filter((s) => s.status === 'failed').length);
    expect(c.error_rate).toBeCloseTo(checkout.filter((s) => s.status === 'failed' || s.status === 'timed_out').length / checkout.length);
    expect(c.per_minute).toBeCloseTo(checkout.length / 120);
    const durations = checkout.map((s) => s.duration_ms).filter((d): d is number => d !== null).sort((a, b) => a - b);
    expect(c.p95_ms).toBeGreaterThanOrEqual(durations[0]!);
    expect(c.p95_ms).toBeLessThanOrEqual(durations.at(-1)!);
    // a type filter, and a range with nothing in it
    const login = await app.inject({ url: `/api/v1/debugging/workflow-stats?from=${from}&to=${to}&workflow_type=login`, headers: auth(tokens.viewer) });
    expect(login.json().by_type.map((t: { workflow_type: string }) => t.workflow_type)).toEqual(['login']);
    const empty = await app.inject({ url: '/api/v1/debugging/workflow-stats?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z', headers: auth(tokens.viewer) });
    expect(empty.json()).toMatchObject({ by_status: {}, by_type: [], types_truncated: false });
    expect((await app.inject({ url: `/api/v1/debugging/workflow-stats?from=${to}&to=${from}`, headers: auth(tokens.viewer) })).statusCode).toBe(400);
  });
});
