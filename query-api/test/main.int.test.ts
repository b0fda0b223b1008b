import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { runCli } from '../src/cli.ts';
import { freePort } from '@flowscope/common/testing';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Running {
  child: ChildProcess;
  port: number;
  output: () => string;
}

/** `query-api/src/main.ts` as compose and Kubernetes run it: its own process, PostgreSQL, no all-in-one. */
async function startQueryApi(databaseUrl: string, extraEnv: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    FLOWSCOPE_QUERY_HOST: '127.0.0.1',
    FLOWSCOPE_QUERY_PORT: String(port),
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  delete env.REDIS_URL;
  delete env.FLOWSCOPE_ADMIN_TOKEN;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'query-api/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (let i = 0; i < 600 && !output.includes('query-api listening'); i++) {
    if (child.exitCode !== null) throw new Error(`query-api exited:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(output).toContain('query-api listening');
  return { child, port, output: () => output };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  await new Promise((r) => running.child.once('exit', r));
}

const workflows = (port: number, token?: string) =>
  fetch(`http://127.0.0.1:${port}/api/v1/debugging/workflows`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

async function tokenList(url: string): Promise<{ name: string; role: string }[]> {
  let out = '';
  expect(await runCli(['token', 'list', '--json'], { DATABASE_URL: url }, (s) => void (out += s), () => {})).toBe(0);
  return JSON.parse(out) as { name: string; role: string }[];
}

describe('standalone query-api start-up on a fresh database', () => {
  const databases: TestDatabase[] = [];
  const running: Running[] = [];
  afterAll(async () => {
    await Promise.all(running.map(stop));
    await Promise.all(databases.map((d) => d.drop()));
  });

  it('registers FLOWSCOPE_ADMIN_TOKEN as an admin token, once, across restarts', async () => {
    const database = await createTestDatabase('fs_qapi_main');
    databases.push(database);
    const adminToken = 'compose-admin-token-0123456789abcdef';
    const first = await startQueryApi(database.url, { FLOWSCOPE_ADMIN_TOKEN: adminToken });
    running.push(first);
    expect((await workflows(first.port)).status).toBe(401);
    expect((await workflows(first.port, 'not-the-token')).status).toBe(401);
    expect((await workflows(first.port, adminToken)).status).toBe(200);
    expect(first.output()).toContain('registered FLOWSCOPE_ADMIN_TOKEN as an admin token');
    expect(first.output()).not.toContain(adminToken);
    await stop(first);

    const second = await startQueryApi(database.url, { FLOWSCOPE_ADMIN_TOKEN: adminToken });
    running.push(second);
    expect((await workflows(second.port, adminToken)).status).toBe(200);
    expect(second.output()).not.toContain('registered FLOWSCOPE_ADMIN_TOKEN');
    await stop(second);
    expect(await tokenList(database.url)).toEqual([expect.objectContaining({ name: 'admin (FLOWSCOPE_ADMIN_TOKEN)', role: 'admin' })]);
  }, 60_000);

  it('without FLOWSCOPE_ADMIN_TOKEN, prints one generated admin token that works', async () => {
    const database = await createTestDatabase('fs_qapi_main');
    databases.push(database);
    const api = await startQueryApi(database.url, {});
    running.push(api);
    const printed = /flowscope admin token \(shown once, store it now\): (\S+)/.exec(api.output());
    expect(printed).not.toBeNull();
    expect((await workflows(api.port, printed![1])).status).toBe(200);
    expect(await tokenList(database.url)).toEqual([expect.objectContaining({ name: 'admin (first start)', role: 'admin' })]);
  }, 60_000);
});
