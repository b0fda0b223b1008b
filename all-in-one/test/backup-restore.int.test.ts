/**
 * deploy/backup.sh and deploy/restore.sh on the real PostgreSQL: a database loaded through the
 * collector (OpenTelemetry SDK, spans on two days, so in a daily partition and the default one)
 * is backed up, restored into a new empty database, and every table and partition holds the
 * same rows; the query API started on the restored database answers exactly as on the original,
 * with the same token. The scripts refuse a non-empty target, a file that is not a backup, and
 * leave nothing behind when the dump fails.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { loggingConfigShape, parseConfig } from '@flowscope/common';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';
import { openDatabase, storageConfigShape, type Database } from '@flowscope/storage';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { sendCheckout } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BACKUP = join(ROOT, 'deploy/backup.sh');
const RESTORE = join(ROOT, 'deploy/restore.sh');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const run = (file: string, args: string[], env: Record<string, string>) =>
  new Promise<Run>((resolve) => {
    execFile(file, args, { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
const psql = async (url: string, query: string): Promise<string> => {
  const r = await run('psql', ['--no-psqlrc', '-Atq', '--dbname', url, '-c', query], {});
  if (r.code !== 0) throw new Error(`psql: ${r.stderr}`);
  return r.stdout.trim();
};

/** Every table and partition of the public schema with its row count and a digest of its rows. */
async function contents(url: string): Promise<Record<string, string>> {
  const tables = (await psql(url, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1")).split('\n');
  const digests = tables.map((t) => `SELECT '${t}|' || count(*) || ' ' || md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM ONLY "${t}" x`);
  return Object.fromEntries((await psql(url, digests.join(' UNION ALL '))).split('\n').map((line) => line.split('|') as [string, string]));
}
const partitionsOf = (url: string) =>
  psql(url, "SELECT p.relname || ' <- ' || c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent ORDER BY 1");

const shape = { ...loggingConfigShape, ...storageConfigShape, ...queryApiConfigShape, ...collectorConfigShape };
const configFor = (url: string) => parseConfig(shape, { DATABASE_URL: url, LOG_LEVEL: 'silent', DEBUGGING_TRACE_SAMPLING_RATE: '1' });

describe('deploy/backup.sh and deploy/restore.sh', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let db: Database;
  let collector: Collector;
  let dir: string;
  let backupFile = '';
  let viewer = '';
  const traceIds: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowscope-backup-'));
    source = await createTestDatabase('fs_backup');
    target = await createTestDatabase('fs_restored');
    const config = configFor(source.url);
    const logger = pino({ level: 'silent' });
    db = await openDatabase(config);
    collector = buildCollector({ db, config, logger });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (collector.app.server.address() as { port: number }).port;
    viewer = (await createToken(db, { name: 'grafana', role: 'viewer' })).token;

    // Today (a daily partition) and 72 hours ago: before yesterday, the first day ensurePartitions
    // makes, at any time of day (40 hours ago was yesterday after 16:00 UTC), so the default one.
    for (const [i, startTime] of [Date.now() - 60_000, Date.now() - 30_000, Date.now() - 72 * 3_600_000].entries()) {
      const sent = await sendCheckout(`http://127.0.0.1:${port}/v1/traces`, `backup-order-${i}`, { startTime, failed: i === 0, workflowType: i === 1 ? 'login' : 'checkout' });
      traceIds.push(sent.traceId);
    }
    await collector.close();
    await db.close();
  }, 120_000);

  afterAll(async () => {
    await source?.drop();
    await target?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up the loaded database into one verified custom-format file, and prints its name', async () => {
    expect(Number(await psql(source.url, 'SELECT count(*) FROM trace_steps'))).toBe(6);
    const r = await run(BACKUP, [], { DATABASE_URL: source.url, FLOWSCOPE_BACKUP_DIR: join(dir, 'backups') });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    backupFile = r.stdout.trim();
    expect(backupFile).toMatch(/\/backups\/flowscope-\d{8}T\d{6}Z\.dump$/);
    expect(readdirSync(join(dir, 'backups'))).toEqual([backupFile.split('/').at(-1)]);
    const list = await run('pg_restore', ['--list', backupFile], {});
    expect(list.stdout).toContain('TABLE DATA public trace_steps_default');
  });

  it('restores into a new empty database: every table and partition with the same rows', async () => {
    expect(await psql(target.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).toBe('0');
    const r = await run(RESTORE, [backupFile], { DATABASE_URL: target.url });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);

    const before = await contents(source.url);
    const after = await contents(target.url);
    expect(after).toEqual(before);
    // Not vacuous: spans in a daily partition and in the default one, workflows, errors, the token.
    const rows = (t: string) => Number(after[t]!.split(' ')[0]);
    expect(rows('trace_steps_default')).toBe(2);
    const daily = Object.keys(after).filter((t) => /^trace_steps_p?\d{8}$|^trace_steps_\d{4}_\d{2}_\d{2}$/.test(t));
    expect(daily.length).toBeGreaterThan(0);
    expect(daily.reduce((n, t) => n + rows(t), 0)).toBe(4);
    expect(rows('workflow_sessions')).toBe(3);
    expect(rows('api_tokens')).toBeGreaterThan(0);
    expect(await partitionsOf(target.url)).toBe(await partitionsOf(source.url));
  });

  it('the query API on the restored database answers exactly as on the original, with the same viewer token', async () => {
    const answers = async (url: string) => {
      const logger = pino({ level: 'silent' });
      const database = await openDatabase(configFor(url));
      const app = await buildQueryApi({ db: database, config: configFor(url), logger });
      try {
        const out: Record<string, unknown> = {};
        for (const path of [
          '/api/v1/debugging/workflows',
          '/api/v1/debugging/workflows/backup-order-0',
          '/api/v1/debugging/workflows/backup-order-2',
          '/api/v1/debugging/errors',
          ...traceIds.map((id) => `/jaeger/api/traces/${id}`),
          '/jaeger/api/services',
        ]) {
          const res = await app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${viewer}` } });
          out[path] = { status: res.statusCode, body: res.json() as unknown };
        }
        return out;
      } finally {
        await app.close();
        await database.close();
      }
    };
    const original = await answers(source.url);
    const restored = await answers(target.url);
    expect(restored).toEqual(original);
    expect(original['/api/v1/debugging/workflows/backup-order-0']).toMatchObject({ status: 200 });
    expect(JSON.stringify(original['/api/v1/debugging/errors'])).toContain('deadlock detected');
    expect(JSON.stringify(original['/api/v1/debugging/workflows/backup-order-2'])).toContain('"workflow_type":"checkout"');
  });

  it('restore refuses a database that is not empty (exit 3) and leaves it untouched', async () => {
    const before = await contents(target.url);
    const r = await run(RESTORE, [backupFile], { DATABASE_URL: target.url });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('not empty');
    expect(await contents(target.url)).toEqual(before);
  });

  it('restore refuses a file that is not a backup, and a missing DATABASE_URL (exit 2)', async () => {
    const bogus = join(dir, 'not-a-backup.dump');
    writeFileSync(bogus, 'hello');
    const empty = await createTestDatabase('fs_restore_bad');
    try {
      const r = await run(RESTORE, [bogus], { DATABASE_URL: empty.url });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not a readable pg_dump custom-format file');
      expect(await psql(empty.url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).toBe('0');
    } finally {
      await empty.drop();
    }
    expect((await run(RESTORE, [backupFile], {})).code).toBe(2);
    expect((await run(RESTORE, [], { DATABASE_URL: target.url })).code).toBe(2);
  });

  it('a failed backup leaves no file and never prints the password of DATABASE_URL', async () => {
    const url = new URL(source.url);
    url.password = 'Sup3r-secret-pw';
    url.pathname = '/fs_no_such_database';
    const out = join(dir, 'failed', 'x.dump');
    const r = await run(BACKUP, [out], { DATABASE_URL: url.toString() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('fs_no_such_database');
    expect(r.stdout + r.stderr).not.toContain('Sup3r-secret-pw');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect((await run(BACKUP, [], {})).code).toBe(2);
  });
});
