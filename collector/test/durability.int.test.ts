import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { openPostgres, migrate, type Database } from '@flowscope/storage';
import { freePort, otlpJson, spanId, startProcess } from './helpers.ts';


const SPANS_PER_BATCH = 20;
const batchTrace = (i: number) => `${'d'.repeat(24)}${i.toString(16).padStart(8, '0')}`;
const batchBody = (i: number) =>
  JSON.stringify(
    otlpJson(
      'durable-svc',
      Array.from({ length: SPANS_PER_BATCH }, (_, j) => ({ traceId: batchTrace(i), spanId: spanId(j), attributes: { 'workflow.type': 'durability' } })),
    ),
  );

describe('durability: an acknowledged batch survives kill -9', () => {
  let tdb: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase();
    db = openPostgres({ url: tdb.url, maxConnections: 2 });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    await tdb.drop();
  });

  it('every span of every acknowledged batch is stored after SIGKILL and restart', async () => {
    const port = await freePort();
    const env = { DATABASE_URL: tdb.url, FLOWSCOPE_COLLECTOR_PORT: String(port), FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1', FLOWSCOPE_COLLECTOR_GRPC_PORT: '0', DEBUGGING_TRACE_SAMPLING_RATE: '1', LOG_LEVEL: 'info' };
    let child = await startProcess(env);
    const acked: number[] = [];
    const failed: number[] = [];
    let next = 0;
    let killed = false;
    const TOTAL = 400;
    const KILL_AFTER = 60;

    const sender = async () => {
      while (next < TOTAL) {
        const i = next++;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: batchBody(i),
          });
          await res.arrayBuffer();
          if (res.status === 200) acked.push(i);
          else failed.push(i);
        } catch {
          failed.push(i);
          if (killed) return; // the process is gone; stop this sender
        }
        if (!killed && acked.length >= KILL_AFTER) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, sender));
    expect(killed).toBe(true);
    console.info(`durability: ${acked.length} batches acknowledged, ${failed.length} refused or cut off by the kill`);
    await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    expect(child.signalCode).toBe('SIGKILL');

    // Restart on the same database; it must come up and keep everything acknowledged.
    child = await startProcess(env);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: batchBody(TOTAL + 1),
      });
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }

    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
    const rows = await db.query<{ trace_id: string; n: number }>(
      `SELECT trace_id, count(*)::int AS n FROM trace_steps GROUP BY trace_id`,
    );
    const stored = new Map(rows.map((r) => [r.trace_id, r.n]));
    const missing = acked.filter((i) => stored.get(batchTrace(i)) !== SPANS_PER_BATCH);
    expect(missing, `acknowledged batches not fully stored: ${missing.join(',')}`).toEqual([]);
    // No batch is ever half stored: a batch commits whole or not at all.
    for (const n of stored.values()) expect(n).toBe(SPANS_PER_BATCH);
  });
});

describe('start-up configuration', () => {
  it('a bad value stops the process with status 2 and a message naming every bad variable', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'collector/src/main.ts'], {
      cwd: new URL('../../', import.meta.url),
      env: { ...process.env, FLOWSCOPE_COLLECTOR_PORT: 'eighty', DEBUGGING_TRACE_SAMPLING_RATE: '1.5', DEBUGGING_ENABLED: 'yes' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/FLOWSCOPE_COLLECTOR_PORT: expected an integer, got "eighty"/);
    expect(r.stderr).toMatch(/DEBUGGING_TRACE_SAMPLING_RATE: must be between 0 and 1, got 1.5/);
    expect(r.stderr).toMatch(/DEBUGGING_ENABLED: expected true\/false or 1\/0/);
  });

  it('more flushes at once than pooled PostgreSQL connections allow stops the process with status 2, naming both variables', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'collector/src/main.ts'], {
      cwd: new URL('../../', import.meta.url),
      // Checked before any connection is made: the URL is never dialled.
      env: { ...process.env, DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', FLOWSCOPE_DB_POOL_SIZE: '2', FLOWSCOPE_WRITER_CONCURRENCY: '2' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/FLOWSCOPE_WRITER_CONCURRENCY: 2 flushes at once need at least 3 PostgreSQL connections .* FLOWSCOPE_DB_POOL_SIZE is 2/);
  });
});
