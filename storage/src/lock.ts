import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';

/** The file that marks an embedded data directory as owned by one running process. */
export const DATA_DIR_LOCK_FILE = 'flowscope.lock';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  nonce: string;
}

/**
 * A second process tried to open an embedded (PGlite) data directory that a running process
 * owns. PGlite is one process's database: two writers on one directory lose or corrupt data,
 * so the second one is refused with this error, whose message says what to do.
 */
export class DataDirInUseError extends Error {
  readonly code = 'FS_DATA_DIR_IN_USE';
  /** Printed as it is (no stack) by a process that fails to start. */
  readonly userFacing = true;
  constructor(
    readonly dataDir: string,
    readonly owner: Partial<LockOwner>,
  ) {
    const who = `process ${owner.pid ?? '?'}${owner.command ? ` (${owner.command})` : ''}${owner.startedAt ? `, started ${owner.startedAt}` : ''}`;
    super(
      `the embedded database in ${dataDir} is in use by ${who}. ` +
        'Only one process may open an embedded data directory: stop that process first, ' +
        'or run every flowscope process on PostgreSQL (DATABASE_URL) to use them side by side. ' +
        `If no such process is running, delete ${join(dataDir, DATA_DIR_LOCK_FILE)}.`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by another user). */
function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): Partial<LockOwner> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // A half-written or garbled lock file (a crash while writing it): no owner can be named.
    return {};
  }
}

/** Data directories this process holds (a second open inside one process is refused too). */
const heldHere = new Set<string>();

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Safe to call twice. */
  release(): void;
}

/**
 * Takes the data directory for this process, or throws DataDirInUseError naming the owner.
 *
 * The lock is a file created atomically (written aside, then hard-linked into place, which fails
 * when the name exists) holding the owner's pid, host and a nonce. A lock left by a process that
 * is gone (kill -9, a crash, a container restarted with the same pid) is taken over at once: the
 * pid is checked on this host, so a restart after kill -9 never waits. Released on close and on
 * process exit.
 */
export function lockDataDir(dataDir: string, command = processCommand()): DataDirLock {
  const dir = resolve(dataDir);
  const path = join(dir, DATA_DIR_LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString(), nonce: randomBytes(8).toString('hex') };
  const tmp = `${path}.${process.pid}.${me.nonce}`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(me)}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(path);
      if (owner === undefined) continue; // released between link and read: try again
      const stale =
        owner.pid === undefined ||
        (owner.host === me.host &&
          // our own pid without our hold: a container restarted with the same pid
          (owner.pid === process.pid ? !heldHere.has(path) : !processAlive(owner.pid)));
      if (!stale || attempt >= 3) throw new DataDirInUseError(dir, owner);
      // Move the stale file aside (atomic) and check that what moved is the stale one: if
      // another process took over in between, its live lock is put back.
      const aside = `${path}.stale.${me.nonce}`;
      try {
        renameSync(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = readOwner(aside);
      if (moved && moved.nonce !== owner.nonce) {
        try {
          linkSync(aside, path);
        } catch {
          // someone else holds it now; the loop reads the new owner
        }
      }
      unlinkSync(aside);
    }
  } finally {
    unlinkSync(tmp);
  }
  if (readOwner(path)?.nonce !== me.nonce) throw new DataDirInUseError(dir, readOwner(path) ?? {});

  heldHere.add(path);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    heldHere.delete(path);
    process.off('exit', release);
    if (readOwner(path)?.nonce === me.nonce) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  return { path, release };
}

function processCommand(): string {
  const script = process.argv[1] ?? '';
  const name = script.split('/').slice(-3).join('/');
  return name ? `node ${name}` : 'node';
}
