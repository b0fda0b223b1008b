import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { alertingConfig, startAlerting, type AlertingHandle } from '@flowscope/alerting';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';
import { matchRoute } from '@flowscope/ui';

/**
 * The acceptance test for alert emails: a checkout whose INSERT shop.orders went from
 * ~3 ms to ~90 ms (30×; it still loses to the normal 120 ms payment call in absolute time) and
 * whose cache call went 40× slower, sent through the real collector; the real alerting worker
 * (BullMQ on Redis, PostgreSQL, nodemailer) sends the seeded database p95 alert to a real SMTP
 * server. The email names the INSERT (never the cache call or an HTTP operation: the rule is on
 * the database layer) and links an exemplar workflow, and that link answers through the query
 * API, whose suspects for that workflow put the INSERT first; GET /alerts/{id} lists the same.
 */

const REDIS_URL = process.env.FLOWSCOPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PUBLIC_URL = 'https://flowscope.example.com';
const MIN = 60_000;

interface Mail { subject: string; text: string; html: string }

async function startSmtp(received: Mail[]): Promise<SMTPServer & { port: number }> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, cb) => {
      simpleParser(stream)
        .then((m) => {
          received.push({ subject: m.subject ?? '', text: m.text ?? '', html: typeof m.html === 'string' ? m.html : '' });
          cb();
        })
        .catch((err: Error) => cb(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return Object.assign(server, { port: (server.server.address() as AddressInfo).port });
}

async function waitFor<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

/**
 * One checkout workflow as OTLP/JSON: storefront serves POST /checkout and reads the cart from
 * Redis; the orders service runs SELECT and INSERT; the payments service calls the external
 * payment API (~120 ms). Durations in ms.
 */
function checkout(startMs: number, workflowId: string, d: { cart: number; insert: number }) {
  const traceId = randomBytes(16).toString('hex');
  const rootId = randomBytes(8).toString('hex');
  const ns = (ms: number) => String(BigInt(Math.round(ms * 1000)) * 1000n);
  const wf = [str('workflow.type', 'checkout'), str('workflow.id', workflowId)];
  let t = startMs + 1;
  const child = (name: string, ms: number, attrs: { key: string; value: { stringValue: string } }[]) => {
    const s = { traceId, spanId: randomBytes(8).toString('hex'), parentSpanId: rootId, name, kind: 3, startTimeUnixNano: ns(t), endTimeUnixNano: ns(t + ms), attributes: [...attrs, ...wf], status: {} };
    t += ms + 1;
    return s;
  };
  const cart = child('GET cart', d.cart, [str('db.system', 'redis')]);
  const select = child('SELECT shop.inventory', 5, [str('db.system', 'postgresql')]);
  const insert = child('INSERT shop.orders', d.insert, [str('db.system', 'postgresql')]);
  const charge = child('POST /charge', 120, [str('http.method', 'POST'), str('url.full', 'https://pay.example.net/charge')]);
  const root = {
    traceId, spanId: rootId, name: 'POST /checkout', kind: 2, startTimeUnixNano: ns(startMs), endTimeUnixNano: ns(t + 1),
    attributes: [str('http.method', 'POST'), str('http.route', '/checkout'), ...wf], status: {},
  };
  const service = (name: string, spans: unknown[]) => ({ resource: { attributes: [str('service.name', name)] }, scopeSpans: [{ scope: { name: 'shop' }, spans }] });
  return [service('storefront', [root, cart]), service('orders', [select, insert]), service('payments', [charge])];
}

describe('alert email for a slow database operation (real SMTP, BullMQ, PostgreSQL)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f();
  });

  it('names the operation and links an exemplar workflow that answers through the query API', async () => {
    const t = await openTestDatabase('postgres');
    cleanup.push(() => t.dispose());
    const logger = pino({ level: process.env.FLOWSCOPE_TEST_LOG_LEVEL ?? 'silent' });
    const collector: Collector = buildCollector({ db: t.db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger });
    cleanup.push(() => collector.close());
    const send = async (resourceSpans: unknown[]) => {
      const res = await collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ resourceSpans }) });
      expect(res.statusCode, res.body).toBe(200);
    };

    // Hours ago, normal traffic makes the baselines (hour rows of operation_stats). A workflow's
    // suspects compare with the 24 h up to the end of its own hour, so the slow runs below are
    // a small share of that (as an incident of minutes is of a day).
    const now = Date.now();
    const usual = (i: number) => ({ cart: 2 + (i % 3) * 0.2, insert: 3 + (i % 4) * 0.2 });
    for (let batch = 0; batch < 6; batch++) {
      await send(Array.from({ length: 100 }, (_, j) => checkout(now - (3 + batch) * 60 * MIN + j * 1000, `wf-usual-${batch}-${j}`, usual(j))).flat());
    }
    // Now: the INSERT is ~30× slower and the cache call ~40× slower; everything else as usual.
    const slowIds = Array.from({ length: 20 }, (_, i) => `wf-slow-${i}`);
    await send(slowIds.flatMap((id, i) => checkout(now - 2 * MIN + i * 1000, id, { cart: 80 + (i % 3), insert: 85 + (i % 10) })));

    const received: Mail[] = [];
    const smtp = await startSmtp(received);
    cleanup.push(() => new Promise<void>((r) => smtp.close(() => r())));
    const prefix = `fs-test-${randomBytes(5).toString('hex')}`;
    cleanup.push(async () => {
      const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
      try {
        const keys = await r.keys(`${prefix}:*`);
        if (keys.length > 0) await r.del(...keys);
      } finally {
        r.disconnect();
      }
    });
    const alerting: AlertingHandle = await startAlerting({
      db: t.db,
      config: alertingConfig({
        EMAIL_HOST: '127.0.0.1',
        EMAIL_PORT: String(smtp.port),
        FLOWSCOPE_QUEUE_PREFIX: prefix,
        FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '0.1',
        FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: '3600',
        FLOWSCOPE_ALERT_EMAIL_TO: 'oncall@example.com',
        FLOWSCOPE_PUBLIC_URL: PUBLIC_URL,
        FLOWSCOPE_ALERTING_METRICS_PORT: '0',
      }),
      logger,
      redisUrl: REDIS_URL,
    });
    cleanup.push(() => alerting.close());
    expect(alerting.scheduler).toBe('bullmq');

    const mail = await waitFor(() => received.find((m) => / checkout \/ database p95 latency /.test(m.subject)), 'the database latency email');
    expect(mail.subject).toMatch(/^\[flowscope\] WARNING: checkout \/ database p95 latency 9\d ms ≥ 50 ms$/);

    // The email names the slow operation, with its evidence, first, and no other layer's.
    const causes = mail.text.slice(mail.text.indexOf('Operations slower than their baseline:'));
    expect(causes).toMatch(/^Operations slower than their baseline:\n {2}1\. orders INSERT shop\.orders \(database\): p95 9\d(\.\d)? ms in the window vs [\d.]+ ms usually \((\d+\.\d)×/);
    const ratio = Number(/\((\d+\.\d)×/.exec(causes)![1]);
    expect(ratio).toBeGreaterThan(10);
    expect(mail.text).not.toMatch(/GET cart|POST \/charge|POST \/checkout/);

    // …and links an exemplar workflow: one of the slow runs, in the text and the HTML.
    const link = /Example workflow: (\S+)/.exec(causes)![1]!;
    const url = new URL(link);
    expect(url.origin).toBe(PUBLIC_URL);
    const workflowId = decodeURIComponent(url.pathname.replace(/^\/workflows\//, ''));
    expect(slowIds).toContain(workflowId);
    expect(mail.html).toContain(`<a href="${link}">example workflow</a>`);

    // The link answers through the query API: the page is a UI route, its JSON names the INSERT.
    const api = await buildQueryApi({ db: t.db, config: parseConfig(queryApiConfigShape, {}), logger });
    cleanup.push(() => api.close());
    const { token } = await t.db.transaction((tx) => createToken(tx, { name: 'cause-email', role: 'viewer' }));
    expect(matchRoute(url.pathname)).not.toBeNull();
    const shell = await api.inject({ method: 'GET', url: url.pathname });
    expect([200, 503]).toContain(shell.statusCode);
    expect(shell.headers['content-type']).toContain('text/html');
    const wf = await api.inject({ method: 'GET', url: `/api/v1/debugging/workflows/${encodeURIComponent(workflowId)}`, headers: { authorization: `Bearer ${token}` } });
    expect(wf.statusCode, wf.body).toBe(200);
    const suspect = wf.json<{ suspects: { operation: string; component: string; layer: string; reason: string }[] }>().suspects[0];
    expect(suspect).toMatchObject({ operation: 'INSERT shop.orders', component: 'orders', layer: 'database', reason: 'slow' });

    // The alert page (GET /alerts/{id}, where the email's alert link points) lists the same cause.
    const alertLink = /\/alerts\/(\d+)/.exec(mail.text)![1]!;
    const alert = await api.inject({ method: 'GET', url: `/api/v1/debugging/alerts/${alertLink}`, headers: { authorization: `Bearer ${token}` } });
    expect(alert.statusCode, alert.body).toBe(200);
    const pageCauses = alert.json<{ causes: { operation: string; layer: string; exemplar_workflow_id: string | null }[] }>().causes;
    expect(pageCauses[0]).toMatchObject({ operation: 'INSERT shop.orders', layer: 'database', exemplar_workflow_id: workflowId });
    expect(pageCauses.every((c) => c.layer === 'database')).toBe(true);
  });
});
