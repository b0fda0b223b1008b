import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openTestDatabase } from '@flowscope/storage/testing';
import type { Database } from '@flowscope/storage';
import { startAlerting, type AlertingHandle } from '../src/index.ts';
import { cleanRedisPrefix, delta, outbox, REDIS_URL, TestSmtp, testConfig, testLogger, uniquePrefix, waitFor, writeDeltas, evaluationsPassed } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/**
 * A real worker process (src/main.ts) takes the email job and is killed with SIGKILL while
 * the SMTP server holds its DATA unanswered. Another worker picks the stalled job up once the
 * dead worker's lock expires, and the email is delivered exactly once.
 */
describe('a worker killed mid-job', () => {
  let child: ChildProcess | undefined;
  let alerting: AlertingHandle | undefined;
  let db: Database | undefined;
  let dispose: (() => Promise<void>) | undefined;
  const smtp = new TestSmtp();
  const prefix = uniquePrefix();

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await alerting?.close();
    await smtp.stop();
    await dispose?.();
    await cleanRedisPrefix(prefix);
  });

  it('the email job runs again on another worker and the email is delivered once', async () => {
    const t = await openTestDatabase('postgres');
    db = t.db;
    dispose = t.dispose;
    await smtp.start();
    smtp.hold = true;

    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: t.url,
      REDIS_URL,
      FLOWSCOPE_QUEUE_PREFIX: prefix,
      FLOWSCOPE_QUEUE_LOCK_MS: '1500',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(smtp.port),
      FLOWSCOPE_ALERT_EMAIL_TO: 'oncall@example.com',
      FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '0.2',
      FLOWSCOPE_ALERTING_METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    let stderr = '';
    child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', MAIN], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));

    await writeDeltas(db, [delta(Date.now(), { workflowType: 'checkout', layer: 'database' }, Array.from({ length: 20 }, () => 400))]);
    // The child is in the middle of the SMTP conversation: DATA sent, no answer yet.
    await waitFor(() => smtp.dataStarted >= 1, `the child worker to start sending (stderr: ${stderr})`, 60_000);
    const during = await outbox(db);
    expect(during).toHaveLength(1);
    expect(during[0]).toMatchObject({ status: 'sending', attempts: 1 });

    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    expect(smtp.received).toHaveLength(0);
    smtp.hold = false;

    const config = testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_QUEUE_PREFIX: prefix, FLOWSCOPE_QUEUE_LOCK_MS: '1500' });
    const delivered: number[] = [];
    alerting = await startAlerting({ db, config, logger: testLogger(), redisUrl: REDIS_URL });
    alerting.events.on('email', (e) => {
      if (e.outcome === 'sent') delivered.push(e.outboxId);
    });

    const mail = await waitFor(() => smtp.received[0], 'the email from the second worker', 30_000);
    expect(mail.subject).toMatch(/^\[flowscope\] CRITICAL: checkout \/ database/);
    // The SMTP server has the message before the worker has read its 250 and emitted 'sent'.
    await waitFor(() => (delivered.length > 0 ? delivered : undefined), 'the sent event from the second worker');
    expect(delivered).toEqual([during[0]!.id]);
    const after = await waitFor(async () => {
      const rows = await outbox(db!);
      return rows[0]?.status === 'sent' ? rows : undefined;
    }, 'outbox row sent');
    expect(after).toHaveLength(1);
    // The killed attempt and the one that delivered (one more if the retry met the dead worker's row lock before PostgreSQL released it).
    expect(after[0]!.attempts).toBeGreaterThanOrEqual(2);
    // A few more evaluations and sweeps on the surviving worker: no second copy.
    await waitFor(() => evaluationsPassed(alerting!, 5), 'five evaluations');
    expect(smtp.received).toHaveLength(1);
  });
});
