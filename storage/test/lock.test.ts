import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATA_DIR_LOCK_FILE, DataDirInUseError, lockDataDir, openPglite } from '../src/index.ts';

/** The data-directory lock on its own (the real-process case is all-in-one/test/datadir-lock.int.test.ts). */
describe('embedded data directory lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowscope-lockunit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const lockFile = () => join(dir, DATA_DIR_LOCK_FILE);

  it('a second open in the same process is refused until the first is released', () => {
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirInUseError);
    lock.release();
    lock.release(); // twice is fine
    expect(existsSync(lockFile())).toBe(false);
    lockDataDir(dir).release();
  });

  it.each([
    ['a pid that is gone', { pid: 2 ** 22 + 12345, host: hostname(), nonce: 'x' }],
    ['our own pid without our hold (container restarted)', { pid: process.pid, host: hostname(), nonce: 'y' }],
    ['no pid (a garbled file)', {}],
  ])('a stale lock (%s) is taken over', (_name, owner) => {
    writeFileSync(lockFile(), JSON.stringify(owner));
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it.each([
    ['a live process here', { pid: process.ppid, host: hostname(), command: 'node all-in-one/src/main.ts' }],
    ['a process on another host (shared disk)', { pid: 2 ** 22 + 12345, host: 'other-host' }],
  ])('a lock held by %s is respected, and the error names it and says what to do', (_name, owner) => {
    writeFileSync(lockFile(), JSON.stringify(owner));
    let error: unknown;
    try {
      lockDataDir(dir);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as Error).message).toContain(`in use by process ${owner.pid}`);
    expect((error as Error).message).toContain('stop that process first');
    expect(JSON.parse(readFileSync(lockFile(), 'utf8'))).toEqual(owner); // untouched
  });

  it('openPglite takes the lock, refuses a second open and releases on close', async () => {
    const db = await openPglite({ dataDir: dir });
    await expect(openPglite({ dataDir: dir })).rejects.toThrow(DataDirInUseError);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await db.close();
    expect(existsSync(lockFile())).toBe(false);
  }, 60_000);
});
