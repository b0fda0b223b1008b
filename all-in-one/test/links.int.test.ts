import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { matchRoute } from '@flowscope/ui';
import { parseConfig } from '@flowscope/common';
import { openTestDatabase } from '@flowscope/storage/testing';
import { alertLinks, type AlertEmailInput } from '@flowscope/alerting';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';

/** The links an alert email carries are routes the query API serves, with parameters it accepts. */
describe('alert email links', () => {
  it.each([
    ['a latency alert', 'p95', 'duration_ms:p95'],
    ['an error-rate alert', 'error_pct', 'duration_ms:error_pct'],
  ])('every link of %s answers 200 through the query API', async (_name, statistic, metric) => {
    const t = await openTestDatabase('pglite');
    const app = await buildQueryApi({ db: t.db, config: parseConfig(queryApiConfigShape, {}), logger: pino({ level: 'silent' }) });
    try {
      const { token } = await t.db.transaction((tx) => createToken(tx, { name: 'links', role: 'viewer' }));
      const [rule] = await t.db.query<{ id: number }>(
        `INSERT INTO alert_rules (name, metric, workflow_type, layer, critical_threshold) VALUES ('r', $1, 'checkout', 'database', 100) RETURNING id`,
        [metric],
      );
      const [alert] = await t.db.query<{ id: string }>(
        `INSERT INTO alerts (rule_id, scope_key, severity, state, value, threshold, first_seen, last_seen)
         VALUES ($1, 'workflow_type=checkout', 'critical', 'firing', 150, 100, now(), now()) RETURNING id`,
        [rule!.id],
      );
      const now = Date.now();
      const input: AlertEmailInput = {
        kind: 'firing',
        rule: { id: rule!.id, name: 'r', description: '', metric, statistic, snapshotMetric: 'duration_ms', warning: null, critical: 100, windowSeconds: 300 } as AlertEmailInput['rule'],
        scope: { workflow_type: 'checkout', layer: 'database', component: 'orders-db' },
        alertId: Number(alert!.id),
        severity: 'critical',
        value: 150,
        threshold: 100,
        count: 40,
        firstSeenMs: now - 60_000,
        nowMs: now,
        publicUrl: 'https://flowscope.example.com',
      };
      const links = alertLinks(input);
      expect(links.length).toBeGreaterThanOrEqual(4);
      for (const link of links) {
        // the JSON route for scripts answers with a token…
        const api = new URL(link.api);
        const res = await app.inject({ method: 'GET', url: api.pathname + api.search, headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode, `${link.label}: ${link.api} → ${res.body}`).toBe(200);
        // …and the page a person clicks is one of the UI's (the shell, before any sign-in)
        const page = new URL(link.url);
        expect(page.pathname.startsWith('/api/'), link.url).toBe(false);
        expect(matchRoute(page.pathname), link.url).not.toBeNull();
        const shell = await app.inject({ method: 'GET', url: page.pathname + page.search });
        expect([200, 503], `${link.label}: ${link.url}`).toContain(shell.statusCode);
        expect(shell.headers['content-type'], link.url).toContain('text/html');
      }
    } finally {
      await app.close();
      await t.dispose();
    }
  });
});
