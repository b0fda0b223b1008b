import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { auth, loadDataset, makeApp, makeTokens, type Tokens } from './helpers.ts';

const P = '/api/v1/debugging';
const e = encodeURIComponent;

const HOSTILE_VALUES = [
  "'",
  "' OR '1'='1",
  "'; DROP TABLE workflow_sessions; --",
  '"; SELECT pg_sleep(10); --',
  '%',
  '_',
  '\\',
  '$1',
  '?',
  '1; DELETE FROM error_logs',
  'checkout\u0000',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  'ü🚀',
  'x'.repeat(300),
];
const HOSTILE_NUMBERS = ['1e309', '-1', '99999999999999999999999', 'NaN', 'Infinity', '0x10', '1 OR 1=1', ''];
const HOSTILE_DATES = ['2025-13-45T00:00:00Z', 'yesterday', '0000-00-00', '99999-01-01T00:00:00Z', "2025-01-01' OR '1'='1", '1e10', '2025-02-30T00:00:00Z'];
const HOSTILE_IDS = ["1' OR '1'='1", '../../etc/passwd', '-1', '0', '1.5', '9'.repeat(40), 'null', '%00'];

describe('hostile filter values get 400 or an empty result, never a 500, and change nothing', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let tokens: Tokens;

  const counts = async () =>
    db.query(`SELECT (SELECT count(*)::int FROM workflow_sessions) AS w, (SELECT count(*)::int FROM trace_steps) AS s,
                     (SELECT count(*)::int FROM error_logs WHERE resolved) AS r, (SELECT count(*)::int FROM error_logs) AS e,
                     (SELECT count(*)::int FROM alert_rules) AS ar, (SELECT count(*)::int FROM api_tokens) AS t`);
  let before: unknown;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    await loadDataset(db);
    tokens = await makeTokens(db);
    app = await makeApp(db);
    before = await counts();
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  const urls: string[] = [];
  for (const v of HOSTILE_VALUES) {
    for (const f of ['workflow_type', 'user_id']) urls.push(`${P}/workflows?${f}=${e(v)}`);
    urls.push(`${P}/workflows?status=${e(v)}`);
    for (const f of ['layer', 'severity', 'error_type', 'correlation_id', 'component']) urls.push(`${P}/errors?${f}=${e(v)}`);
    urls.push(`${P}/workflows/${e(v)}`, `${P}/traces/${e(v)}`, `${P}/performance?workflow_type=${e(v)}`, `${P}/performance?group_by=${e(v)}`);
    urls.push(`${P}/performance?metric=${e(v)}`, `${P}/alerts?state=${e(v)}`, `${P}/email-outbox?status=${e(v)}`);
    urls.push(`/jaeger/api/services/${e(v)}/operations`, `/jaeger/api/traces?service=${e(v)}`, `/jaeger/api/traces/${e(v)}`);
    urls.push(`/jaeger/api/traces?service=api-gateway&operation=${e(v)}&start=0`, `/jaeger/api/traces?service=api-gateway&tags=${e(v)}`);
    urls.push(`/jaeger/api/traces?service=api-gateway&start=0&tags=${e(JSON.stringify({ [v]: v }))}`, `/jaeger/api/traces?service=api-gateway&minDuration=${e(v)}`);
    urls.push(`/jaeger/api/operations?service=${e(v)}&spanKind=${e(v)}`);
  }
  // String filters above must never widen a result; numbers below may coerce to a valid filter ("0x10" is 16).
  const stringFilterCount = urls.length;
  for (const n of HOSTILE_NUMBERS) {
    urls.push(`${P}/workflows?min_duration_ms=${e(n)}`, `${P}/workflows?limit=${e(n)}`, `${P}/workflows?offset=${e(n)}`);
    urls.push(`${P}/performance?step=${e(n)}`, `${P}/errors?limit=${e(n)}`, `/jaeger/api/traces?service=x&limit=${e(n)}`);
    urls.push(`/jaeger/api/traces?service=x&start=${e(n)}&end=${e(n)}`, `/jaeger/api/dependencies?endTs=${e(n)}&lookback=${e(n)}`);
  }
  for (const d of HOSTILE_DATES) {
    urls.push(`${P}/workflows?from=${e(d)}`, `${P}/errors?to=${e(d)}`, `${P}/performance?from=${e(d)}`, `${P}/alerts?from=${e(d)}`);
  }
  for (const id of HOSTILE_IDS) urls.push(`${P}/errors/${e(id)}`, `${P}/alert-rules/${e(id)}`, `/jaeger/api/traces/${e(id)}`);
  urls.push(`${P}/workflows?workflow_type=a&workflow_type=b`, `${P}/workflows?has_errors=maybe`, `${P}/workflows?unknown=1`);

  it(`${urls.length} hostile GET requests`, async () => {
    const statuses = new Map<number, number>();
    for (const [i, url] of urls.entries()) {
      const res = await app.inject({ url, headers: auth(tokens.viewer) });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect([200, 400, 404], `${url} → ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(res.statusCode);
      if (res.statusCode === 200) {
        const body = res.json() as { data?: unknown };
        // a hostile value never widens a filter: lists come back empty
        if (i < stringFilterCount && Array.isArray(body.data) && !url.includes('/performance') && !url.includes('/jaeger/api/traces/')) {
          expect(body.data, url).toEqual([]);
        }
      }
    }
    expect(statuses.get(400)).toBeGreaterThan(50);
  });

  it('hostile bodies and ids on admin routes: 400/404, never 500', async () => {
    const bodies: unknown[] = [
      { name: "x'); DROP TABLE alert_rules; --", metric: 'duration_ms:p95', warning_threshold: 1 },
      { name: 'a', metric: "p95'; --", warning_threshold: 1 },
      { name: 'a', metric: 'duration_ms:p95', warning_threshold: 'NaN' },
      { name: 'a', metric: 'duration_ms:p95', warning_threshold: 1e300 },
      { name: 'a', metric: 'duration_ms:p95', warning_threshold: 1, window_seconds: 1e12 },
      { name: 'a', metric: 'duration_ms:p95', warning_threshold: 1, recipients: "x@example.com'; --" },
      { name: 'a', metric: 'duration_ms:p95', warning_threshold: 1, __proto__: { enabled: false } },
      [],
      'not json',
    ];
    const accepted: string[] = [];
    for (const payload of bodies) {
      const res = await app.inject({
        method: 'POST', url: `${P}/alert-rules`, headers: { ...auth(tokens.admin), 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      expect([201, 400], `${JSON.stringify(payload)} → ${res.body}`).toContain(res.statusCode);
      if (res.statusCode === 201) {
        // accepted ones are valid rules whose text is stored verbatim as data
        accepted.push(res.json().name as string);
        await db.query('DELETE FROM alert_rules WHERE id = $1', [res.json().id]);
      }
    }
    expect(accepted).toEqual(["x'); DROP TABLE alert_rules; --", 'a']);
    for (const id of HOSTILE_IDS) {
      for (const url of [`${P}/errors/${e(id)}/resolve`, `${P}/alert-rules/${e(id)}/disable`]) {
        const res = await app.inject({ method: 'POST', url, headers: auth(tokens.admin) });
        expect([400, 404], `${url} → ${res.statusCode}`).toContain(res.statusCode);
      }
    }
  });

  it('nothing changed in the database', async () => {
    expect(await counts()).toEqual(before);
  });
});
