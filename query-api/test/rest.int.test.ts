import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { quantile, type Database } from '@flowscope/storage';
import { openTestDatabase, type Driver } from '@flowscope/storage/testing';
import {
  API_SCOPE, BASE, SNAPSHOT_VALUES, T1, T2, auth, delta, loadDataset, makeApp, makeTokens, sid, type Tokens,
} from './helpers.ts';

const P = '/api/v1/debugging';

// The REST suite runs against both storage drivers: the embedded one must answer the same.
describe.each<Driver>(['postgres', 'pglite'])('REST API on %s with the known data set', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let tokens: Tokens;
  let clock = BASE + 3_600_000;

  const get = async (url: string, token = tokens.viewer) => {
    const res = await app.inject({ method: 'GET', url, headers: auth(token) });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> & { data: Record<string, unknown>[] } };
  };
  const ids = (body: { data: Record<string, unknown>[] }) => body.data.map((w) => w.workflow_id);

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    await loadDataset(db);
    tokens = await makeTokens(db);
    app = await makeApp(db, { FLOWSCOPE_QUERY_HEALTH_CACHE_MS: '5000', FLOWSCOPE_QUERY_MAX_PAGE_SIZE: '100' }, { now: () => clock });
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  it.each([
    ['', ['wf-search-1', 'wf-login-1', 'wf-checkout-2', 'wf-checkout-1']],
    ['workflow_type=checkout', ['wf-checkout-2', 'wf-checkout-1']],
    ['status=failed', ['wf-checkout-2']],
    ['status=in_progress', ['wf-login-1']],
    ['user_id=u-1', ['wf-login-1', 'wf-checkout-1']],
    ['min_duration_ms=100&max_duration_ms=250', ['wf-checkout-2', 'wf-checkout-1']],
    ['min_duration_ms=100.5', ['wf-checkout-2']],
    ['has_errors=true', ['wf-checkout-2']],
    ['has_errors=false', ['wf-search-1', 'wf-login-1', 'wf-checkout-1']],
    ['from=2025-06-02T10:05:00Z&to=2025-06-02T10:25:00Z', ['wf-login-1', 'wf-checkout-2']],
    ['workflow_type=checkout&status=completed&user_id=u-1', ['wf-checkout-1']],
    ['workflow_type=nope', []],
  ])('workflows?%s', async (query, expected) => {
    const { status, body } = await get(`${P}/workflows?${query}`);
    expect(status).toBe(200);
    expect(ids(body)).toEqual(expected);
    expect(body.total).toBe(expected.length);
  });

  it('paginates with limit/offset and a hard maximum page size', async () => {
    const { body } = await get(`${P}/workflows?limit=2&offset=1`);
    expect(ids(body)).toEqual(['wf-login-1', 'wf-checkout-2']);
    expect(body).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect((await get(`${P}/workflows?limit=101`)).status).toBe(400);
    expect((await get(`${P}/workflows?limit=0`)).status).toBe(400);
    expect((await get(`${P}/workflows`)).body.limit).toBe(50);
  });

  it('a workflow row has every field', async () => {
    const { body } = await get(`${P}/workflows?workflow_type=checkout&status=completed`);
    expect(body.data[0]).toEqual({
      workflow_id: 'wf-checkout-1',
      workflow_type: 'checkout',
      status: 'completed',
      user_id: 'u-1',
      first_trace_id: T1,
      started_at: '2025-06-02T10:00:00.000000Z',
      ended_at: '2025-06-02T10:00:00.100000Z',
      duration_ms: 100,
      span_count: 7,
      error_count: 0,
      stored: true,
      // completed, and no baselines in this data set say it was slow
      top_suspect: null,
    });
  });

  it('one workflow: span tree, per-layer self time and critical path of the hand-checked example', async () => {
    const { status, body } = await get(`${P}/workflows/wf-checkout-1`);
    expect(status).toBe(200);
    expect(body.span_count).toBe(7);
    expect(body.truncated).toBe(false);
    type Node = { span_id: string; name: string; self_ms: number; children: Node[] };
    const shape = (n: Node): unknown => [n.name, n.self_ms, n.children.map(shape)];
    expect((body.spans as unknown as Node[]).map(shape)).toEqual([
      ['POST /checkout', 15, [
        ['validate cart', 15, [['GET cart', 5, []]]],
        ['SELECT inventory', 20, []],
        ['charge', 10, [['INSERT payment', 20, []], ['POST stripe', 45, []]]],
      ]],
    ]);
    expect(body.layer_breakdown).toEqual([
      { layer: 'external', self_ms: 45, span_count: 1, share: 45 / 130 },
      { layer: 'database', self_ms: 40, span_count: 2, share: 40 / 130 },
      { layer: 'service', self_ms: 25, span_count: 2, share: 25 / 130 },
      { layer: 'api', self_ms: 15, span_count: 1, share: 15 / 130 },
      { layer: 'cache', self_ms: 5, span_count: 1, share: 5 / 130 },
    ]);
    const path = body.critical_path as { duration_ms: number; segments: Record<string, unknown>[] };
    expect(path.duration_ms).toBe(100);
    expect(path.segments.map((s) => [s.name, s.layer, s.offset_ms, s.duration_ms])).toEqual([
      ['POST /checkout', 'api', 0, 5],
      ['validate cart', 'service', 5, 5],
      ['GET cart', 'cache', 10, 5],
      ['validate cart', 'service', 15, 10],
      ['POST /checkout', 'api', 25, 5],
      ['charge', 'service', 30, 10],
      ['POST stripe', 'external', 40, 45],
      ['charge', 'service', 85, 5],
      ['POST /checkout', 'api', 90, 10],
    ]);
    expect(path.segments[6]).toMatchObject({ trace_id: T1, span_id: sid(7), component: 'stripe', start_time: '2025-06-02T10:00:00.040Z' });
    expect(body.errors).toEqual([]);
    expect((await get(`${P}/workflows/wf-nope`)).status).toBe(404);
  });

  it('a failed workflow lists its errors', async () => {
    const { body } = await get(`${P}/workflows/wf-checkout-2`);
    expect((body.workflow as Record<string, unknown>).status).toBe('failed');
    expect((body.errors as Record<string, unknown>[]).map((e) => [e.error_type, e.layer])).toEqual([
      ['DeadlockError', 'database'],
      ['HttpError', 'api'],
    ]);
    // the error started in the database span; the api root only propagated it
    expect(body.suspects).toEqual([
      expect.objectContaining({
        span_id: sid(22), layer: 'database', component: 'postgres',
        operation: 'INSERT order', reason: 'error', error_message: 'deadlock detected', on_critical_path: true, duration_ms: 150,
      }),
    ]);
    const list = await get(`${P}/workflows?status=failed`);
    expect((list.body.data as { top_suspect: unknown }[])[0]!.top_suspect).toMatchObject({ layer: 'database', operation: 'INSERT order', reason: 'error' });
  });

  it('trace by id (case-insensitive), 404 for an unknown one', async () => {
    const { status, body } = await get(`${P}/traces/${T2.toUpperCase()}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ trace_id: T2, workflow_ids: ['wf-checkout-2'], span_count: 2 });
    expect(body.layer_breakdown).toEqual([
      { layer: 'database', self_ms: 150, span_count: 1, share: 150 / 250 },
      { layer: 'api', self_ms: 100, span_count: 1, share: 100 / 250 },
    ]);
    expect((await get(`${P}/traces/${'f'.repeat(32)}`)).status).toBe(404);
  });

  it.each([
    ['', ['CacheMiss', 'HttpError', 'DeadlockError']],
    ['layer=database', ['DeadlockError']],
    ['severity=warning', ['CacheMiss']],
    ['error_type=HttpError', ['HttpError']],
    ['workflow_type=checkout', ['HttpError', 'DeadlockError']],
    ['correlation_id=wf-search-1', ['CacheMiss']],
    ['from=2025-06-02T10:10:00.2Z&to=2025-06-02T10:10:00.25Z', ['DeadlockError']],
    ['resolved=true', []],
  ])('errors?%s', async (query, expected) => {
    const { status, body } = await get(`${P}/errors?${query}`);
    expect(status).toBe(200);
    expect(body.data.map((e) => e.error_type)).toEqual(expected);
    expect(body.total).toBe(expected.length);
  });

  it('resolve and unresolve an error as admin, with who and when', async () => {
    const { body } = await get(`${P}/errors?error_type=DeadlockError`);
    const id = body.data[0]!.id as number;
    expect(body.data[0]).toMatchObject({ resolved: false, resolved_by: null, resolved_at: null, correlation_id: 'wf-checkout-2', stack: 'at insert()' });
    const viewer = await app.inject({ method: 'POST', url: `${P}/errors/${id}/resolve`, headers: auth(tokens.viewer) });
    expect(viewer.statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: `${P}/errors/${id}/resolve`, headers: auth(tokens.admin) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, resolved: true, resolved_by: 'admin-test' });
    expect(res.json().resolved_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await get(`${P}/errors?resolved=true`)).body.data.map((e) => e.id)).toEqual([id]);
    expect((await get(`${P}/errors?resolved=false`)).body.total).toBe(2);
    const un = await app.inject({ method: 'POST', url: `${P}/errors/${id}/unresolve`, headers: auth(tokens.admin) });
    expect(un.json()).toMatchObject({ id, resolved: false, resolved_by: null, resolved_at: null });
    expect((await app.inject({ method: 'POST', url: `${P}/errors/999999/resolve`, headers: auth(tokens.admin) })).statusCode).toBe(404);
  });

  it('performance: p50/p95/p99, rate and error rate per step from snapshot histograms', async () => {
    const { status, body } = await get(`${P}/performance?from=2025-06-02T10:00:00Z&to=2025-06-02T10:03:00Z&step=60&workflow_type=checkout&layer=api`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ from: '2025-06-02T10:00:00.000Z', to: '2025-06-02T10:03:00.000Z', step_seconds: 60, metric: 'duration_ms', group_by: [] });
    const series = body.series as { labels: Record<string, string>; points: Record<string, unknown>[] }[];
    expect(series).toHaveLength(1);
    const b0 = delta(BASE, API_SCOPE, SNAPSHOT_VALUES.api0, 1).buckets;
    expect(series[0]!.points).toEqual([
      {
        time: '2025-06-02T10:00:00.000Z', count: 4, rate_per_second: 4 / 60, error_count: 1, error_rate: 0.25, avg_ms: 25, min_ms: 10, max_ms: 40,
        p50_ms: quantile(b0, 0.5, 10, 40), p95_ms: quantile(b0, 0.95, 10, 40), p99_ms: quantile(b0, 0.99, 10, 40),
      },
      { time: '2025-06-02T10:01:00.000Z', count: 1, rate_per_second: 1 / 60, error_count: 0, error_rate: 0, avg_ms: 100, min_ms: 100, max_ms: 100, p50_ms: 100, p95_ms: 100, p99_ms: 100 },
      { time: '2025-06-02T10:02:00.000Z', count: 0, rate_per_second: 0, error_count: 0, error_rate: null, avg_ms: null, min_ms: null, max_ms: null, p50_ms: null, p95_ms: null, p99_ms: null },
    ]);
    // the histogram's quantile is within a bucket (±19 %) of the true value
    const p50 = series[0]!.points[0]!.p50_ms as number;
    expect(p50).toBeGreaterThanOrEqual(20 / 1.19);
    expect(p50).toBeLessThanOrEqual(20 * 1.19);
  });

  it('performance: a larger step merges histograms (not averages of percentiles), group_by splits series', async () => {
    const { body } = await get(`${P}/performance?from=2025-06-02T10:00:00Z&to=2025-06-02T10:02:00Z&step=120&workflow_type=checkout&group_by=layer`);
    const series = body.series as { labels: Record<string, string>; points: Record<string, number>[] }[];
    expect(series.map((s) => s.labels)).toEqual([{ layer: 'api' }, { layer: 'database' }]);
    const merged = delta(BASE, API_SCOPE, [...SNAPSHOT_VALUES.api0, ...SNAPSHOT_VALUES.api1], 1).buckets;
    expect(series[0]!.points).toEqual([
      expect.objectContaining({ count: 5, error_count: 1, error_rate: 0.2, rate_per_second: 5 / 120, max_ms: 100, p99_ms: quantile(merged, 0.99, 10, 100), p50_ms: quantile(merged, 0.5, 10, 100) }),
    ]);
    expect(series[1]!.points[0]).toMatchObject({ count: 2, avg_ms: 5, p50_ms: 5, p99_ms: 5 });
  });

  it.each([
    ['step=90', 400],
    ['step=30', 400],
    ['from=2025-06-02T10:00:00Z&to=2025-06-01T10:00:00Z', 400],
    ['from=2020-01-01T00:00:00Z&to=2025-01-01T00:00:00Z&step=60', 400],
    ['group_by=layer;DROP', 400],
    ['metric=duration_ms', 200],
  ])('performance?%s → %i', async (query, code) => {
    expect((await get(`${P}/performance?${query}`)).status).toBe(code);
  });

  it('alert rules: list, create, update, disable (admin), with 400/403/409', async () => {
    const list = await get(`${P}/alert-rules`);
    expect(list.body.data.map((r) => [r.name, r.metric, r.warning_threshold, r.critical_threshold, r.recipients, r.enabled, r.source])).toEqual([
      ['checkout api p95', 'duration_ms:p95', 200, 500, ['oncall@example.com'], true, 'config'],
    ]);
    const rule = { name: 'login errors', metric: 'duration_ms:error_pct', workflow_type: 'login', critical_threshold: 0.05, window_seconds: 300, recipients: ['sre@example.com'] };
    const post = (body: unknown, token = tokens.admin) => app.inject({ method: 'POST', url: `${P}/alert-rules`, headers: auth(token), payload: body as object });
    expect((await post(rule, tokens.viewer)).statusCode).toBe(403);
    const created = await post(rule);
    expect(created.statusCode).toBe(201);
    const id = created.json().id as number;
    expect(created.json()).toMatchObject({ ...rule, warning_threshold: null, layer: null, enabled: true, source: 'api' });
    expect((await post(rule)).statusCode).toBe(409);
    expect((await post({ name: 'no thresholds', metric: 'duration_ms:error_pct' })).statusCode).toBe(400);
    // Only metrics the alerting worker can evaluate: <snapshot metric>:<statistic>.
    expect((await post({ name: 'bad metric', metric: 'p95_ms', critical_threshold: 1 })).statusCode).toBe(400);
    expect((await post({ name: 'bad statistic', metric: 'duration_ms:p42', critical_threshold: 1 })).statusCode).toBe(400);
    expect((await post({ ...rule, name: 'bad mail', recipients: ['not an email'] })).statusCode).toBe(400);
    expect((await post({ ...rule, name: 'extra', surprise: 1 })).statusCode).toBe(400);
    const patch = await app.inject({ method: 'PATCH', url: `${P}/alert-rules/${id}`, headers: auth(tokens.admin), payload: { warning_threshold: 0.01, description: 'login failures' } });
    expect(patch.json()).toMatchObject({ id, warning_threshold: 0.01, critical_threshold: 0.05, description: 'login failures' });
    const clearBoth = await app.inject({ method: 'PATCH', url: `${P}/alert-rules/${id}`, headers: auth(tokens.admin), payload: { warning_threshold: null, critical_threshold: null } });
    expect(clearBoth.statusCode).toBe(400);
    expect((await get(`${P}/alert-rules/${id}`)).body).toMatchObject({ warning_threshold: 0.01, critical_threshold: 0.05 });
    const disabled = await app.inject({ method: 'POST', url: `${P}/alert-rules/${id}/disable`, headers: auth(tokens.admin) });
    expect(disabled.json()).toMatchObject({ id, enabled: false });
    expect((await get(`${P}/alert-rules?enabled=false`)).body.data.map((r) => r.id)).toEqual([id]);
    expect((await app.inject({ method: 'POST', url: `${P}/alert-rules/${id}/enable`, headers: auth(tokens.admin) })).json().enabled).toBe(true);
    expect((await app.inject({ method: 'PATCH', url: `${P}/alert-rules/99999`, headers: auth(tokens.admin), payload: { enabled: false } })).statusCode).toBe(404);
  });

  it('alerts and the email outbox', async () => {
    const alerts = await get(`${P}/alerts?state=firing`);
    expect(alerts.body.data).toEqual([
      expect.objectContaining({ rule_name: 'checkout api p95', scope_key: 'checkout/api', severity: 'critical', state: 'firing', value: 612.5, threshold: 500, first_seen: '2025-06-02T10:05:00.000000Z', resolved_at: null, notification_status: 'sent' }),
    ]);
    expect((await get(`${P}/alerts?state=resolved`)).body.total).toBe(0);
    // from/to: alerts still seen at or after `from`, first seen before `to`; from after to is refused.
    expect((await get(`${P}/alerts?from=2025-06-02T10:05:00Z&to=2025-06-02T10:05:00Z`)).body.total).toBe(0);
    expect((await get(`${P}/alerts?from=2025-06-02T10:00:00Z&to=2025-06-02T10:05:00.001Z`)).body.total).toBe(1);
    expect(await get(`${P}/alerts?from=2025-06-02T10:05:00.001Z&to=2025-06-02T10:05:00Z`)).toEqual({
      status: 400,
      body: expect.objectContaining({ message: 'from must not be after to' }),
    });
    // The page alert emails link to.
    const one = await get(`${P}/alerts/${alerts.body.data[0]!.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: alerts.body.data[0]!.id, rule_name: 'checkout api p95', metric: 'duration_ms:p95', workflow_type: 'checkout', severity: 'critical' });
    expect((await get(`${P}/alerts/999999`)).status).toBe(404);
    expect((await get(`${P}/alerts/abc`)).status).toBe(400);
    const outbox = await get(`${P}/email-outbox`);
    expect(outbox.body.data).toEqual([
      expect.objectContaining({ recipients: ['oncall@example.com'], subject: '[critical] checkout api p95', status: 'unsent', attempts: 0, alert_id: alerts.body.data[0]!.id }),
    ]);
    expect((await get(`${P}/email-outbox?status=sent`)).body.total).toBe(0);
  });

  it('system health: counts, cached for the configured time', async () => {
    const first = await get(`${P}/health`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: 'degraded',
      workflows: { active: 1, active_by_type: { login: 1 } },
      errors: { unresolved: 3 },
      alerts: { firing: 1, firing_warning: 0, firing_critical: 1 },
      cache_ttl_ms: 5000,
    });
    await db.query(`INSERT INTO workflow_sessions (workflow_id, workflow_type, started_at, ended_at) VALUES ('wf-new', 'login', now(), now())`);
    clock += 4999;
    expect((await get(`${P}/health`)).body.workflows).toMatchObject({ active: 1 });
    clock += 1;
    expect((await get(`${P}/health`)).body.workflows).toMatchObject({ active: 2, active_by_type: { login: 2 } });
    await db.query(`DELETE FROM workflow_sessions WHERE workflow_id = 'wf-new'`);
  });

  it('OpenAPI document at /docs/json lists every REST route with its schemas', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs/json', headers: auth(tokens.viewer) });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/api/v1/debugging/workflows', '/api/v1/debugging/workflows/{workflowId}', '/api/v1/debugging/errors/{id}/resolve', '/api/v1/debugging/performance', '/jaeger/api/traces']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.paths['/api/v1/debugging/workflows']!.get!.parameters!.length).toBeGreaterThan(5);
    const ui = await app.inject({ method: 'GET', url: '/docs', headers: auth(tokens.viewer) });
    expect([200, 302]).toContain(ui.statusCode);
  });
});
