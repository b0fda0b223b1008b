import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase } from '@flowscope/storage/testing';
import type { Database } from '@flowscope/storage';
import { LocalEventBus, type LiveEvent } from '@flowscope/common';
import { startAlerting, type AlertingHandle, type EvaluationResult } from '../src/index.ts';
import { cleanRedisPrefix, delta, outbox, REDIS_URL, TestSmtp, testConfig, testLogger, uniquePrefix, waitFor, writeDeltas } from './helpers.ts';

/**
 * The main scenario on each scheduler: slow database spans make exactly one critical
 * email; the breach continuing for several evaluations sends nothing more; recovery sends one
 * resolved email. The clock is real time plus an offset the test moves forward.
 */
const modes = [
  { name: 'BullMQ on Redis, PostgreSQL', driver: 'postgres' as const, redis: true },
  { name: 'in-process scheduler without Redis, PostgreSQL', driver: 'postgres' as const, redis: false },
  { name: 'in-process scheduler without Redis, PGlite (all-in-one)', driver: 'pglite' as const, redis: false },
];

describe.each(modes)('alert evaluation: $name', ({ driver, redis }) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let smtp: TestSmtp;
  let alerting: AlertingHandle | undefined;
  const prefix = uniquePrefix();
  let offset = 0;
  const clock = () => Date.now() + offset;

  beforeEach(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    smtp = await new TestSmtp().start();
  });
  afterEach(async () => {
    await alerting?.close();
    await smtp.stop();
    await dispose();
    if (redis) await cleanRedisPrefix(prefix);
  });

  /** Resolves after `n` further evaluations that looked at the database rule. */
  const evaluations = (n: number) =>
    new Promise<EvaluationResult[]>((resolve) => {
      const seen: EvaluationResult[] = [];
      const on = (r: EvaluationResult) => {
        if (!r.rules.includes('db_query_time_p95')) return;
        seen.push(r);
        if (seen.length >= n) {
          alerting!.events.off('evaluated', on);
          resolve(seen);
        }
      };
      alerting!.events.on('evaluated', on);
    });
  const dbDecisions = (rs: EvaluationResult[], workflowType: string) =>
    rs.flatMap((r) => r.decisions.filter((d) => d.rule === 'db_query_time_p95' && d.scopeKey === `workflow_type=${workflowType}`).map((d) => d.action));

  it('one critical email for a breach, none while it continues, one resolved email on recovery', async () => {
    const config = testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_QUEUE_PREFIX: prefix });
    const liveEvents = new LocalEventBus();
    const live: LiveEvent[] = [];
    liveEvents.subscribe((e) => live.push(e));
    alerting = await startAlerting({ db, config, logger: testLogger(), redisUrl: redis ? REDIS_URL : undefined, clock, liveEvents });
    expect(alerting.scheduler).toBe(redis ? 'bullmq' : 'in-process');

    // 40 database spans of checkout at 180-400 ms (p95 ≈ 390 ms > critical 100 ms), and healthy login queries.
    const slow = Array.from({ length: 40 }, (_, i) => 180 + i * 5.5);
    await writeDeltas(db, [
      delta(clock(), { workflowType: 'checkout', layer: 'database' }, slow),
      delta(clock(), { workflowType: 'login', layer: 'database' }, Array.from({ length: 40 }, () => 4)),
    ]);

    const first = await waitFor(() => smtp.received[0], 'the critical email');
    expect(first.to).toEqual(['oncall@example.com']);
    expect(first.subject).toMatch(/^\[flowscope\] CRITICAL: checkout \/ database p95 latency \d+ ms ≥ 100 ms$/);
    const p95 = Number(/latency (\d+) ms/.exec(first.subject)![1]);
    expect(p95).toBeGreaterThan(330);
    expect(p95).toBeLessThan(420);
    expect(first.text).toContain('Workflow type: checkout');
    expect(first.text).toContain('Layer: database');
    expect(first.text).toContain('Threshold: 100 ms (warning 50 ms, critical 100 ms)');
    expect(first.text).toMatch(/Firing since: \d{4}-\d\d-\d\dT/);
    expect(first.text).toContain('https://flowscope.example.com/api/v1/debugging/workflows?workflow_type=checkout');
    expect(first.text).toContain('min_duration_ms=100');
    expect(first.html).toContain('<a href="https://flowscope.example.com/api/v1/debugging/alerts/');
    expect(first.messageId).toMatch(/^<flowscope-outbox-\d+@flowscope.invalid>$/);

    // The breach continues (more slow spans arrive): several evaluations, no second email.
    await writeDeltas(db, [delta(clock(), { workflowType: 'checkout', layer: 'database' }, slow)]);
    const during = await evaluations(3);
    expect(dbDecisions(during, 'checkout')).toEqual(['hold', 'hold', 'hold']);
    expect(dbDecisions(during, 'login')).toEqual(['none', 'none', 'none']);
    expect(smtp.received).toHaveLength(1);
    await waitFor(async () => (await outbox(db))[0]?.status === 'sent', 'outbox row marked sent');
    const rows = await outbox(db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'sent', attempts: 1, recipients: ['oncall@example.com'] });
    const firing = await db.query<{ severity: string; state: string; scope_key: string; notification_status: string }>('SELECT severity, state, scope_key, notification_status FROM alerts');
    expect(firing).toEqual([{ severity: 'critical', state: 'firing', scope_key: 'workflow_type=checkout', notification_status: 'sent' }]);

    // Recovery: ten minutes later only fast queries are in the window.
    offset += 10 * 60_000;
    await writeDeltas(db, [delta(clock(), { workflowType: 'checkout', layer: 'database' }, Array.from({ length: 40 }, () => 3))]);
    const resolved = await waitFor(() => smtp.received[1], 'the resolved email');
    expect(resolved.subject).toMatch(/^\[flowscope\] RESOLVED \(was CRITICAL\): checkout \/ database p95 latency 3(\.\d+)? ms, back under 100 ms$/);
    expect(resolved.text).toContain('Fired: ');
    const after = await evaluations(3);
    expect(dbDecisions(after, 'checkout')).toEqual(['none', 'none', 'none']);
    expect(smtp.received).toHaveLength(2);
    const alerts = await db.query<{ state: string }>('SELECT state FROM alerts');
    expect(alerts).toEqual([{ state: 'resolved' }]);
    await waitFor(async () => (await outbox(db)).every((r) => r.status === 'sent'), 'both outbox rows sent');
    // The live stream heard the same story: one firing, one resolved.
    expect(live.map((e) => [e.type, (e as { severity?: string }).severity, (e as { scope_key?: string }).scope_key])).toEqual([
      ['alert.firing', 'critical', 'workflow_type=checkout'],
      ['alert.resolved', 'critical', 'workflow_type=checkout'],
    ]);
  });

  it('a warning escalates to critical with one email each, and a reminder follows after the interval', async () => {
    const config = testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_QUEUE_PREFIX: prefix, FLOWSCOPE_ALERT_REMINDER_MINUTES: '30' });
    alerting = await startAlerting({ db, config, logger: testLogger(), redisUrl: redis ? REDIS_URL : undefined, clock });
    await writeDeltas(db, [delta(clock(), { workflowType: 'search', layer: 'database' }, Array.from({ length: 20 }, () => 70))]);
    const warning = await waitFor(() => smtp.received[0], 'the warning email');
    expect(warning.subject).toMatch(/^\[flowscope\] WARNING: search \/ database p95 latency 7\d ms ≥ 50 ms$/);

    await writeDeltas(db, [delta(clock(), { workflowType: 'search', layer: 'database' }, Array.from({ length: 200 }, () => 250))]);
    const escalated = await waitFor(() => smtp.received[1], 'the escalation email');
    expect(escalated.subject).toMatch(/^\[flowscope\] CRITICAL \(escalated\): search \/ database/);
    await evaluations(2);
    expect(smtp.received).toHaveLength(2);

    // 31 minutes on, still breaching: exactly one reminder.
    offset += 31 * 60_000;
    await writeDeltas(db, [delta(clock(), { workflowType: 'search', layer: 'database' }, Array.from({ length: 20 }, () => 250))]);
    const reminder = await waitFor(() => smtp.received[2], 'the reminder');
    expect(reminder.subject).toMatch(/^\[flowscope\] CRITICAL \(still firing\): search \/ database/);
    await evaluations(2);
    expect(smtp.received).toHaveLength(3);
    const alerts = await db.query('SELECT id FROM alerts');
    expect(alerts).toHaveLength(1);
  });
});
