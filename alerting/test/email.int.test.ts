import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { openTestDatabase } from '@flowscope/storage/testing';
import type { Database } from '@flowscope/storage';
import { startAlerting, type AlertingHandle } from '../src/index.ts';
import { cleanRedisPrefix, delta, outbox, REDIS_URL, TestSmtp, testConfig, testLogger, uniquePrefix, waitFor, writeDeltas } from './helpers.ts';

const PASSWORD = 'pa55-w0rd-that-must-not-leak';

/** A logger whose every line is kept, to check what reaches the logs. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

const breach = (db: Database, now: number) =>
  writeDeltas(db, [delta(now, { workflowType: 'checkout', layer: 'database' }, Array.from({ length: 20 }, () => 400))]);

describe.each([
  { name: 'BullMQ', redis: true },
  { name: 'in-process scheduler', redis: false },
])('email delivery ($name)', ({ redis }) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let smtp: TestSmtp;
  let alerting: AlertingHandle | undefined;
  const prefix = uniquePrefix();

  beforeEach(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    smtp = new TestSmtp();
  });
  afterEach(async () => {
    await alerting?.close();
    alerting = undefined;
    await smtp.stop();
    await dispose();
    if (redis) await cleanRedisPrefix(prefix);
  });

  it('SMTP down for a while: the email arrives once after it is back, and the outbox shows the attempts', async () => {
    await smtp.start();
    const port = smtp.port;
    await smtp.stop(); // nothing listens on the port now
    const { logger, lines } = capturingLogger();
    const config = testConfig({
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(port),
      EMAIL_HOST_USER: 'alerts',
      EMAIL_HOST_PASSWORD: PASSWORD,
      FLOWSCOPE_QUEUE_PREFIX: prefix,
      FLOWSCOPE_EMAIL_BACKOFF_MS: '100',
    });
    alerting = await startAlerting({ db, config, logger, redisUrl: redis ? REDIS_URL : undefined });
    await breach(db, Date.now());

    const failing = await waitFor(async () => {
      const rows = await outbox(db);
      return rows.length === 1 && rows[0]!.attempts >= 3 && rows[0]!.status === 'pending' ? rows[0] : undefined;
    }, 'three failed attempts');
    expect(failing.last_error).toMatch(/ECONNREFUSED/);

    await smtp.start(port);
    const mail = await waitFor(() => smtp.received[0], 'the email after SMTP is back');
    expect(mail.subject).toMatch(/^\[flowscope\] CRITICAL: checkout \/ database/);
    expect(smtp.authUsers).toContain('alerts');

    const sent = await waitFor(async () => {
      const rows = await outbox(db);
      return rows[0]?.status === 'sent' ? rows[0] : undefined;
    }, 'outbox row marked sent');
    expect(sent.attempts).toBeGreaterThanOrEqual(4);
    expect(sent.last_error).toMatch(/ECONNREFUSED/); // the history of the failed attempts stays visible
    // More evaluation ticks and sweeps: never sent again.
    let ticks = 0;
    await waitFor(() => {
      ticks = 0;
      return new Promise<boolean>((resolve) => {
        const on = () => {
          ticks += 1;
          if (ticks >= 5) {
            alerting!.events.off('evaluated', on);
            resolve(true);
          }
        };
        alerting!.events.on('evaluated', on);
      });
    }, 'five more evaluations');
    expect(smtp.received).toHaveLength(1);
    expect(smtp.dataStarted).toBe(1);
    expect((await outbox(db))[0]!.attempts).toBe(sent.attempts);

    // The password reached the SMTP server and nothing else: not the logs, not the database.
    expect(smtp.passwords).toContain(PASSWORD);
    expect(lines.join('')).not.toContain(PASSWORD);
    expect(lines.some((l) => l.includes('will retry'))).toBe(true);
    const dump = await db.query<{ t: string }>(`SELECT (SELECT coalesce(string_agg(e::text, ''), '') FROM email_outbox e) || (SELECT coalesce(string_agg(a::text, ''), '') FROM alerts a) || (SELECT coalesce(string_agg(r::text, ''), '') FROM alert_rules r) AS t`);
    expect(dump[0]!.t).not.toContain(PASSWORD);
  });

  it('a permanent rejection (550) is recorded as failed after one attempt, not retried', async () => {
    await smtp.start();
    smtp.rejectRecipients = 550;
    const config = testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_QUEUE_PREFIX: prefix });
    alerting = await startAlerting({ db, config, logger: testLogger(), redisUrl: redis ? REDIS_URL : undefined });
    await breach(db, Date.now());
    const failed = await waitFor(async () => {
      const rows = await outbox(db);
      return rows[0]?.status === 'failed' ? rows[0] : undefined;
    }, 'outbox row failed');
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toMatch(/550/);
    const alert = await db.query<{ notification_status: string }>('SELECT notification_status FROM alerts');
    expect(alert).toEqual([{ notification_status: 'failed' }]);
  });

  it('close() lets an email being sent finish: nothing is half-sent', async () => {
    await smtp.start();
    smtp.answerDelayMs = 1500;
    const config = testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_QUEUE_PREFIX: prefix });
    alerting = await startAlerting({ db, config, logger: testLogger(), redisUrl: redis ? REDIS_URL : undefined });
    await breach(db, Date.now());
    await waitFor(() => smtp.dataStarted >= 1, 'the send to start');
    const closing = alerting.close();
    await closing;
    await alerting.close(); // safe twice
    expect(smtp.received).toHaveLength(1);
    expect((await outbox(db))[0]).toMatchObject({ status: 'sent', attempts: 1 });
  });
});

describe('without SMTP', () => {
  it('keeps the email in the outbox as unsent and logs it; the recipients of a rule replace the default (PGlite, in-process)', async () => {
    const { db, dispose } = await openTestDatabase('pglite');
    const { logger, lines } = capturingLogger();
    const alerting = await startAlerting({ db, config: testConfig({}), logger });
    try {
      await db.query(`UPDATE alert_rules SET recipients = '{dba@example.com,db-oncall@example.com}' WHERE name = 'db_query_time_p95'`);
      await breach(db, Date.now());
      const row = await waitFor(async () => (await outbox(db))[0], 'the outbox row');
      expect(row).toMatchObject({ status: 'unsent', attempts: 0, recipients: ['dba@example.com', 'db-oncall@example.com'] });
      expect(row.subject).toMatch(/^\[flowscope\] CRITICAL: checkout \/ database/);
      expect(row.last_error).toMatch(/EMAIL_HOST/);
      const body = await db.query<{ body_text: string; body_html: string }>('SELECT body_text, body_html FROM email_outbox');
      expect(body[0]!.body_text).toContain('Workflow type: checkout');
      expect(body[0]!.body_html).toContain('<html>');
      expect(lines.some((l) => l.includes('kept in the outbox as unsent'))).toBe(true);
    } finally {
      await alerting.close();
      await dispose();
    }
  });
});
