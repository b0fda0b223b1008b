import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Regression test for the postgres.js patch (patches/postgres@3.4.9.patch, the nextWrite guard;
 * upstream porsager/postgres#1154 / #1208): when the PostgreSQL backend under a transaction dies
 * (a PostgreSQL restart, as the soak's first run found), a write the driver had deferred reached
 * the closed socket and threw a TypeError from a setImmediate callback, which no caller can
 * catch, and the whole process (the collector) died. The storage calls run in a process of their
 * own (storage/test/scripts/backend-dies.ts): it must exit 0 with the transaction rejected as
 * CONNECTION_CLOSED (an "unavailable" error, answered 503) and the pool answering afterwards.
 * Without the guard this test fails with "the process died (exit 1) … TypeError".
 */
describe('postgres driver: a backend that dies under a transaction', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('fs_driver');
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('the transaction rejects CONNECTION_CLOSED, the process lives, the pool answers again', async () => {
    const r = await run(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'storage/test/scripts/backend-dies.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: t.url },
      timeout: 60_000,
      killSignal: 'SIGKILL',
    }).catch((err: { code?: number | string; stdout?: string; stderr?: string }) => {
      throw new Error(`the process died (exit ${err.code}): ${err.stderr ?? ''}${err.stdout ?? ''}`);
    });
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ outcome: 'rejected CONNECTION_CLOSED', after: 'answers 1' });
  }, 90_000);
});
