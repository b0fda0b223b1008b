import { spawn } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { migrate, openPostgres, type Database } from '@flowscope/storage';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { DatabaseUnavailableError, jobFailureKind, startAlerting, type AlertingHandle } from '../src/index.ts';
import { delta, evaluationsPassed, outbox, TestSmtp, testConfig, waitFor, writeDeltas } from './helpers.ts';
import { freePort } from '@flowscope/common/testing';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A TCP relay in front of the real PostgreSQL: stopping it is PostgreSQL going away for this file only. */
class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(
    private readonly target: number,
    public port = 0,
  ) {}
  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Issue 13: the alerting worker while PostgreSQL is down — retried, reported once, nothing lost. */
describe('alerting worker and database errors', () => {
  let t: TestDatabase;
  let relay: Relay;
  let viaRelay: Database;
  let direct: Database;
  let relayedUrl: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    const url = new URL(t.url);
    relay = new Relay(Number(url.port || 5432));
    await relay.start();
    url.port = String(relay.port);
    relayedUrl = url.toString();
    viaRelay = openPostgres({ url: relayedUrl, maxConnections: 3, connectTimeoutSeconds: 2 });
    direct = openPostgres({ url: t.url, maxConnections: 2 });
    await migrate(direct);
  });
  afterAll(async () => {
    await viaRelay?.close();
    await direct?.close();
    await relay?.stop().catch(() => {});
    await t?.drop();
  });

  it('classifies real database errors: unavailable, refused data, anything else', async () => {
    const port = await freePort();
    const down = openPostgres({ url: `postgres://postgres@127.0.0.1:${port}/x`, maxConnections: 1, connectTimeoutSeconds: 2 });
    const refused = await down.query('SELECT 1').catch((e: unknown) => e);
    await down.close();
    expect(jobFailureKind(refused)).toBe('database_unavailable');
    expect(jobFailureKind(await direct.query('SELECT 1/0').catch((e: unknown) => e))).toBe('database_refused');
    expect(jobFailureKind(await direct.query("SELECT 'x'::int").catch((e: unknown) => e))).toBe('database_refused');
    expect(jobFailureKind(await direct.query('SELECT no_such_column FROM alerts').catch((e: unknown) => e))).toBe('error');
    expect(jobFailureKind(new DatabaseUnavailableError('CONNECTION_CLOSED', undefined))).toBe('database_unavailable');
  });

  it('PostgreSQL down: jobs fail as database_unavailable with one warning, and the alert email goes out once when it is back', async () => {
    const smtp = await new TestSmtp().start();
    const lines: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    );
    let alerting: AlertingHandle | undefined;
    try {
      alerting = await startAlerting({
        db: viaRelay,
        config: testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: '0.2' }),
        logger,
      });
      await evaluationsPassed(alerting, 1);

      await relay.stop();
      const failures: string[] = [];
      alerting.events.on('jobFailed', (f) => failures.push(`${f.job}:${f.kind}`));
      // a breach written while the worker cannot see the database
      await writeDeltas(direct, [delta(Date.now(), { workflowType: 'checkout', layer: 'database' }, Array.from({ length: 20 }, () => 400))]);
      await waitFor(
        () => failures.filter((f) => f === 'evaluate:database_unavailable').length >= 2 && failures.some((f) => !f.startsWith('evaluate')),
        `failed ticks (so far: ${failures.join(', ')})`,
        60_000,
      ).catch((e: unknown) => {
        throw new Error(`${String(e)}; seen: ${failures.join(', ')}`);
      });
      expect(failures.every((f) => f.endsWith(':database_unavailable'))).toBe(true);
      const warned = () => lines.filter((l) => l.includes('database unavailable: alert evaluation'));
      expect(warned()).toHaveLength(1);
      expect(lines.filter((l) => JSON.parse(l).level >= 50)).toEqual([]); // no error lines for an outage
      expect(smtp.received).toHaveLength(0);

      await relay.start();
      const mail = await waitFor(() => smtp.received[0], 'the alert email after the database is back', 40_000);
      expect(mail.subject).toMatch(/CRITICAL: checkout \/ database/);
      await waitFor(async () => (await outbox(direct))[0]?.status === 'sent', 'outbox row sent');
      await evaluationsPassed(alerting, 5);
      expect(smtp.received).toHaveLength(1);
      expect(lines.some((l) => l.includes('database is back'))).toBe(true);
      expect(warned()).toHaveLength(1);
      const metrics = await alerting.registry.metrics();
      expect(metrics).toMatch(/flowscope_alerting_evaluations_total\{outcome="database_unavailable"\} [1-9]/);
    } finally {
      await alerting?.close();
      await smtp.stop();
    }
  }, 90_000);

  const runWorker = (env: Record<string, string>) => {
    const e: Record<string, string | undefined> = { ...process.env, FLOWSCOPE_ALERTING_METRICS_PORT: '0', LOG_LEVEL: 'info', FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '1', ...env };
    delete e.REDIS_URL;
    const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'alerting/src/main.ts'], { cwd: ROOT, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    return { child, out: () => out, exited };
  };

  it('a standalone worker (no Redis, no metrics port) keeps running when PostgreSQL drops its connections, and works again when it is back', async () => {
    // Regression: the in-process scheduler's timers are unref'd, so once the database's sockets
    // were cut nothing held the event loop and the worker exited 0 (the soak's PostgreSQL
    // restart found it); main.ts now holds the loop until it is told to stop.
    const cut = new Relay(Number(new URL(t.url).port || 5432));
    await cut.start();
    const url = new URL(t.url);
    url.port = String(cut.port);
    const w = runWorker({ DATABASE_URL: url.toString(), FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '0.5' });
    const orExit = <T,>(p: Promise<T>, what: string) =>
      Promise.race([p, w.exited.then((code) => Promise.reject(new Error(`the worker exited (code ${code}) while waiting for ${what}:\n${w.out()}`)))]);
    try {
      await orExit(waitFor(() => w.out().includes('alerting started'), 'the worker started', 60_000), 'its start');
      await cut.stop(); // PostgreSQL drops every connection of the worker
      await orExit(waitFor(() => w.out().includes('database unavailable: alert evaluation'), 'the outage reported', 60_000), 'the outage to be reported');
      await cut.start();
      await orExit(waitFor(() => w.out().includes('database is back'), 'the database back', 60_000), 'the database to be back');
      expect(w.child.exitCode).toBeNull();
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await cut.stop().catch(() => {});
    }
  }, 180_000);

  it('start-up with PostgreSQL down: the worker retries and starts when it comes up', async () => {
    const port = await freePort();
    const late = new Relay(Number(new URL(t.url).port || 5432), port);
    const url = new URL(t.url);
    url.port = String(port);
    url.password = 'never-printed-pw';
    const w = runWorker({ DATABASE_URL: url.toString(), FLOWSCOPE_DB_START_TIMEOUT_SECONDS: '120' });
    try {
      await waitFor(() => w.out().includes('database unavailable at start-up, retrying'), 'a retry line', 60_000);
      await late.start();
      await waitFor(() => w.out().includes('alerting started'), 'the worker started', 60_000);
      expect(w.out()).toContain(`"database":"PostgreSQL at 127.0.0.1:${port}/${t.name}"`);
      expect(w.out()).not.toContain('never-printed-pw');
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
      await late.stop().catch(() => {});
    }
  }, 120_000);

  it('start-up with PostgreSQL down past FLOWSCOPE_DB_START_TIMEOUT_SECONDS: exit 1 with a message naming the database, no stack', async () => {
    const port = await freePort();
    const w = runWorker({ DATABASE_URL: `postgres://postgres:never-printed-pw@127.0.0.1:${port}/flowscope`, FLOWSCOPE_DB_START_TIMEOUT_SECONDS: '0' });
    expect(await w.exited).toBe(1);
    expect(w.out()).toContain(`flowscope alerting failed to start: PostgreSQL at 127.0.0.1:${port}/flowscope is unavailable (ECONNREFUSED`);
    expect(w.out()).toContain('FLOWSCOPE_DB_START_TIMEOUT_SECONDS');
    expect(w.out()).not.toMatch(/\n\s+at /);
    expect(w.out()).not.toContain('never-printed-pw');
  }, 60_000);
});
