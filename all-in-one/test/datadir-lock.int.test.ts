import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@flowscope/common/testing';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 'lock-admin-token-0123456789abcdef';

interface Running {
  child: ChildProcess;
  output: () => string;
  api: number;
  exited: Promise<number | null>;
}

/**
 * Issue 13, defect 7: the embedded database is owned by one process. Real processes on one
 * PGlite data directory: the all-in-one, a second all-in-one, the token CLI, and kill -9.
 */
describe('embedded data directory: one owner', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];

  const env = async (): Promise<{ env: Record<string, string | undefined>; api: number }> => {
    const [otlp, api, grpc] = [await freePort(), await freePort(), await freePort()];
    const e: Record<string, string | undefined> = {
      ...process.env,
      FLOWSCOPE_DATA_DIR: dataDir,
      FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
      FLOWSCOPE_COLLECTOR_PORT: String(otlp),
      FLOWSCOPE_COLLECTOR_GRPC_PORT: String(grpc),
      FLOWSCOPE_QUERY_HOST: '127.0.0.1',
      FLOWSCOPE_QUERY_PORT: String(api),
      FLOWSCOPE_ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'warn',
    };
    delete e.DATABASE_URL;
    delete e.REDIS_URL;
    return { env: e, api };
  };

  const start = async (waitUp: boolean): Promise<Running> => {
    const { env: e, api } = await env();
    const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'all-in-one/src/main.ts'], { cwd: ROOT, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    if (waitUp) {
      for (let i = 0; i < 900; i++) {
        if (child.exitCode !== null) throw new Error(`all-in-one exited:\n${out}`);
        const up = await fetch(`http://127.0.0.1:${api}/ready`).then((r) => r.status === 200, () => false);
        if (up) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { child, output: () => out, api, exited };
  };

  const cli = async (...argv: string[]): Promise<{ code: number | null; out: string; err: string }> => {
    const { env: e } = await env();
    const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'query-api/src/cli.ts', ...argv], { cwd: ROOT, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    return { code, out, err };
  };

  const authStatus = async (api: number, token: string) =>
    (await fetch(`http://127.0.0.1:${api}/api/v1/debugging/workflows`, { headers: { authorization: `Bearer ${token}` } })).status;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'flowscope-lock-'));
  });
  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await new Promise((r) => c.once('exit', r));
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second server and the CLI while one runs; after kill -9 the next owner takes over and keeps what the CLI wrote', async () => {
    const first = await start(true);
    const lockFile = join(dataDir, 'flowscope.lock');
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: first.child.pid });

    // A second all-in-one on the same directory stops at once, naming the owner and what to do.
    const second = await start(false);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(`is in use by process ${first.child.pid}`);
    expect(second.output()).toMatch(/stop that process first/);
    expect(second.output()).not.toMatch(/\n\s+at /); // a message, not a stack trace

    // The CLI refuses too (it used to print a token the running server never accepted).
    const refused = await cli('token', 'create', '--name', 'while-running');
    expect(refused.code).toBe(3);
    expect(refused.out).not.toMatch(/fs_/);
    expect(refused.err).toContain(`is in use by process ${first.child.pid}`);
    expect(refused.err).toMatch(/stop the running server/);

    // The first server is unharmed: it still answers and still owns the directory.
    expect(await authStatus(first.api, ADMIN)).toBe(200);
    expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: first.child.pid });

    // kill -9 leaves the lock file behind; its owner is gone, so the CLI takes over at once.
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(lockFile)).toBe(true);
    const created = await cli('token', 'create', '--name', 'after-kill');
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
    const token = created.out.trim().split('\n').at(-1)!;
    expect(token).toMatch(/^fs_/);
    expect(existsSync(lockFile)).toBe(false); // released on exit

    // The token the CLI printed is kept and accepted by the next server.
    const third = await start(true);
    expect(await authStatus(third.api, token)).toBe(200);
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  }, 180_000);
});
