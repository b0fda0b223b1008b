import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@flowscope/storage';
import { openPostgres } from '@flowscope/storage';
import { createTestDatabase, openTestDatabase } from '@flowscope/storage/testing';
import { authenticate, ensureAdminToken, hashToken, listTokens } from '../src/index.ts';
import { runCli } from '../src/cli.ts';
import { testLogger } from './helpers.ts';
import { freePort } from '@flowscope/common/testing';

describe('tokens: CLI, hashing, first-start admin token', () => {
  let db: Database;
  let url: string | undefined;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, url, dispose } = await openTestDatabase('postgres'));
  });
  afterAll(async () => {
    await dispose?.();
  });

  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(argv, { DATABASE_URL: url }, (s) => void (out += s), (s) => void (err += s));
    return { code, out, err };
  };

  it('first start without FLOWSCOPE_ADMIN_TOKEN creates one admin token, prints it once, never again', async () => {
    const printed: string[] = [];
    const first = await ensureAdminToken(db, testLogger(), undefined, (l) => printed.push(l));
    expect(first.created).toBe(true);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain(first.token!);
    expect((await authenticate(db, first.token!))?.role).toBe('admin');
    const again = await Promise.all([1, 2, 3].map(() => ensureAdminToken(db, testLogger(), undefined, (l) => printed.push(l))));
    expect(again.every((r) => !r.created)).toBe(true);
    expect(printed).toHaveLength(1);
    // stored as a hash only
    const rows = await db.query<{ token_hash: string; token_prefix: string }>('SELECT token_hash, token_prefix FROM api_tokens');
    expect(rows).toEqual([{ token_hash: hashToken(first.token!), token_prefix: first.token!.slice(0, 10) }]);
    expect(JSON.stringify(rows)).not.toContain(first.token!);
  });

  it('FLOWSCOPE_ADMIN_TOKEN is registered once and works', async () => {
    const envToken = 'my-operator-chosen-admin-token-0123456789';
    expect((await ensureAdminToken(db, testLogger(), envToken, () => {})).created).toBe(true);
    expect((await ensureAdminToken(db, testLogger(), envToken, () => {})).created).toBe(false);
    expect(await authenticate(db, envToken)).toMatchObject({ role: 'admin', name: 'admin (FLOWSCOPE_ADMIN_TOKEN)' });
  });

  it('token create / list / revoke through the CLI', async () => {
    const created = await cli('token', 'create', '--name', 'grafana', '--role', 'viewer');
    expect(created.code).toBe(0);
    const token = created.out.trim().split('\n').at(-1)!;
    expect(token).toMatch(/^fs_[A-Za-z0-9_-]{43}$/);
    expect(await authenticate(db, token)).toMatchObject({ name: 'grafana', role: 'viewer' });

    const list = await cli('token', 'list');
    expect(list.code).toBe(0);
    expect(list.out).toContain('grafana\tviewer');
    expect(list.out).not.toContain(token);
    const json = await cli('token', 'list', '--json');
    const entry = (JSON.parse(json.out) as { id: number; name: string }[]).find((t) => t.name === 'grafana')!;

    expect((await cli('token', 'revoke', String(entry.id))).code).toBe(0);
    expect(await authenticate(db, token)).toBeNull();
    expect((await cli('token', 'revoke', String(entry.id))).code).toBe(1);
    expect((await listTokens(db)).find((t) => t.id === entry.id)!.revoked_at).not.toBeNull();
  });

  it.each([
    [['token', 'create']],
    [['token', 'create', '--name', 'x', '--role', 'root']],
    [['token', 'revoke', 'abc']],
    [['token', 'explode']],
    [[]],
  ])('bad CLI usage %j exits 2 with usage', async (argv) => {
    const r = await cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err.length).toBeGreaterThan(0);
  });

  it('PostgreSQL down: exit 3 with where (never the password) and what to do', async () => {
    const port = await freePort(); // bound, then closed: nothing listens there
    let err = '';
    const code = await runCli(['token', 'list'], { DATABASE_URL: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/flowscope` }, () => {}, (s) => void (err += s));
    expect(code).toBe(3);
    expect(err).toContain(`PostgreSQL at 127.0.0.1:${port}/flowscope is unavailable`);
    expect(err).toContain('ECONNREFUSED');
    expect(err).toMatch(/run the command again/);
    expect(err).not.toContain('s3cret-pw');
  });

  it('data the database refuses: exit 4 naming what it refused', async () => {
    const r = await cli('token', 'revoke', '99999999999');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/refused the data \(22003: .*out of range/);
  });

  it('a database that is not flowscope\'s (schema problem): exit 5, a one-line database error', async () => {
    const t = await createTestDatabase();
    const other = openPostgres({ url: t.url, maxConnections: 1 });
    try {
      // a table of the same name and another shape: the migrations' CREATE TABLE fails
      await other.query('CREATE TABLE workflow_sessions (x int)');
      let err = '';
      const code = await runCli(['token', 'list'], { DATABASE_URL: t.url }, () => {}, (s) => void (err += s));
      expect(code).toBe(5);
      expect(err).toMatch(/^flowscope: database error on PostgreSQL at .* \(42P07: .*already exists\)\.\n$/);
    } finally {
      await other.close();
      await t.drop();
    }
  });
});
