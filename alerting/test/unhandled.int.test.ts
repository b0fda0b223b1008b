import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openPostgres } from '@flowscope/storage';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { waitFor } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/reject-later.mjs', import.meta.url));

/**
 * The standalone worker and a promise rejected outside any of its code (postgres.js, when
 * PostgreSQL drops the connections, porsager/postgres#600): a connection error is logged and the
 * worker goes on; anything else still ends the process with exit 1.
 */
describe('alerting worker: unhandled rejections', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
    const db = openPostgres({ url: t.url, maxConnections: 1 });
    await migrate(db);
    await db.close();
  });
  afterAll(async () => {
    await t?.drop();
  });

  const runWorker = (kind: 'connection' | 'other') => {
    const env: Record<string, string | undefined> = {
      ...process.env,
      DATABASE_URL: t.url,
      FLOWSCOPE_ALERTING_METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      FS_TEST_REJECT: kind,
    };
    delete env.REDIS_URL;
    const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', '--import', FIXTURE, 'alerting/src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    /** Waits until the worker has started, then has the fixture reject. */
    const reject = async () => {
      await Promise.race([
        waitFor(() => out.includes('alerting started'), 'the worker started', 60_000),
        exited.then((code) => Promise.reject(new Error(`the worker exited (code ${code}) before it started:\n${out}`))),
      ]);
      child.kill('SIGUSR2');
    };
    return { child, out: () => out, exited, reject };
  };

  it('a lost connection rejected by the driver is logged and the worker keeps running', async () => {
    const w = runWorker('connection');
    try {
      await w.reject();
      await Promise.race([
        waitFor(() => w.out().includes('database connection lost outside a query'), 'the warning', 60_000),
        w.exited.then((code) => Promise.reject(new Error(`the worker exited (code ${code}):\n${w.out()}`))),
      ]);
      expect(w.out()).toContain('"err":"read ECONNRESET"');
      expect(w.child.exitCode).toBeNull();
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
  }, 90_000);

  it('any other unhandled rejection still ends the worker with exit 1', async () => {
    const w = runWorker('other');
    try {
      await w.reject();
      expect(await w.exited).toBe(1);
      expect(w.out()).toContain('not a connection problem');
      expect(w.out()).not.toContain('database connection lost outside a query');
    } finally {
      if (w.child.exitCode === null) w.child.kill('SIGKILL');
    }
  }, 90_000);
});
