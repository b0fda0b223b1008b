import type { z } from 'zod';
import { envInt, envString, envUrl } from '@flowscope/common';
import { openPglite, openPostgres, type Database } from './driver.ts';
import { migrate } from './migrate.ts';
import { ensurePartitions } from './partitions.ts';
import { classifyDbError, dbErrorCode } from './errors.ts';

export const storageConfigShape = {
  DATABASE_URL: envUrl().describe('PostgreSQL URL. Unset: embedded PGlite in FLOWSCOPE_DATA_DIR (all-in-one).'),
  FLOWSCOPE_DATA_DIR: envString('.data/flowscope').describe('Where embedded PGlite keeps its files when DATABASE_URL is unset. One process owns it at a time (flowscope.lock in it); a second one is refused.'),
  FLOWSCOPE_DB_POOL_SIZE: envInt(10, 1, 1000).describe('PostgreSQL connections per process.'),
  FLOWSCOPE_PARTITIONS_AHEAD_DAYS: envInt(3, 1, 365).describe('Daily partitions created ahead of today.'),
  FLOWSCOPE_DB_START_TIMEOUT_SECONDS: envInt(60, 0, 86_400).describe('At start-up, how long a process waits for an unavailable PostgreSQL (retrying with backoff, one log line per try) before it exits 1 with a message naming the database. 0 = try once.'),
};

export type StorageConfig = z.output<z.ZodObject<typeof storageConfigShape>>;

/**
 * Opens the configured database, applies migrations and creates partitions ahead.
 * PostgreSQL when DATABASE_URL is set; embedded PGlite in FLOWSCOPE_DATA_DIR otherwise.
 */
export async function openDatabase(
  config: Pick<StorageConfig, 'DATABASE_URL' | 'FLOWSCOPE_DATA_DIR' | 'FLOWSCOPE_DB_POOL_SIZE' | 'FLOWSCOPE_PARTITIONS_AHEAD_DAYS'>,
  options: { migrate?: boolean } = {},
): Promise<Database> {
  const db = config.DATABASE_URL
    ? openPostgres({ url: config.DATABASE_URL, maxConnections: config.FLOWSCOPE_DB_POOL_SIZE })
    : await openPglite({ dataDir: config.FLOWSCOPE_DATA_DIR });
  if (options.migrate !== false) {
    try {
      await migrate(db);
      await ensurePartitions(db, new Date(), config.FLOWSCOPE_PARTITIONS_AHEAD_DAYS);
    } catch (err) {
      await db.close();
      throw err;
    }
  }
  return db;
}

/** Where a database is, for messages: host, port and database of the URL (never its password), or the data folder. */
export function describeDatabase(config: Pick<StorageConfig, 'DATABASE_URL' | 'FLOWSCOPE_DATA_DIR'>): string {
  if (!config.DATABASE_URL) return `the embedded database in ${config.FLOWSCOPE_DATA_DIR}`;
  try {
    const u = new URL(config.DATABASE_URL);
    return `PostgreSQL at ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

/** A database error in one line for a log or a terminal: its code and message, no stack. */
export const describeDbError = (err: unknown): string =>
  [dbErrorCode(err), err instanceof Error ? err.message : String(err)].filter(Boolean).join(': ');

/** The start-up failure of a process whose database stayed unavailable or refused to open. */
export class DatabaseStartError extends Error {
  readonly userFacing = true;
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'DatabaseStartError';
  }
}

/**
 * openDatabase for a process's start-up: while PostgreSQL is unavailable (not running yet, a
 * fail-over, too many connections) it retries with backoff (0.5 s doubling to 5 s) for up to
 * FLOWSCOPE_DB_START_TIMEOUT_SECONDS, calling onRetry before each wait; then, or at once for
 * any other error (a migration the database refuses, a data directory in use), it throws a
 * DatabaseStartError (or the DataDirInUseError) whose message names the database and the cause.
 */
export async function openDatabaseAtStart(
  config: Parameters<typeof openDatabase>[0] & Pick<StorageConfig, 'FLOWSCOPE_DB_START_TIMEOUT_SECONDS'>,
  onRetry: (info: { database: string; error: string; attempt: number; retryInMs: number }) => void = () => {},
  now: () => number = Date.now,
): Promise<Database> {
  const database = describeDatabase(config);
  const deadline = now() + config.FLOWSCOPE_DB_START_TIMEOUT_SECONDS * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await openDatabase(config);
    } catch (err) {
      if ((err as { userFacing?: boolean }).userFacing) throw err;
      const cls = classifyDbError(err);
      if (cls !== 'unavailable' && cls !== 'retry') {
        throw new DatabaseStartError(`${database} refused to open (${describeDbError(err)}). This needs a person: check the database and its schema.`, { cause: err });
      }
      const retryInMs = Math.min(5000, 500 * 2 ** (attempt - 1));
      if (now() + retryInMs > deadline) {
        throw new DatabaseStartError(
          `${database} is unavailable (${describeDbError(err)}) after ${attempt} attempt${attempt === 1 ? '' : 's'}: ` +
            'check that it is running and reachable (DATABASE_URL), or wait longer with FLOWSCOPE_DB_START_TIMEOUT_SECONDS.',
          { cause: err },
        );
      }
      onRetry({ database, error: describeDbError(err), attempt, retryInMs });
      await new Promise((r) => setTimeout(r, retryInMs));
    }
  }
}
