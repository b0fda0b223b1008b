import type { z } from 'zod';
import { envInt, envString, envUrl } from '@flowscope/common';
import { openPglite, openPostgres, type Database } from './driver.ts';
import { migrate } from './migrate.ts';
import { ensurePartitions } from './partitions.ts';

export const storageConfigShape = {
  DATABASE_URL: envUrl().describe('PostgreSQL URL. Unset: embedded PGlite in FLOWSCOPE_DATA_DIR (all-in-one).'),
  FLOWSCOPE_DATA_DIR: envString('.data/flowscope').describe('Where embedded PGlite keeps its files when DATABASE_URL is unset. One process owns it at a time (flowscope.lock in it); a second one is refused.'),
  FLOWSCOPE_DB_POOL_SIZE: envInt(10, 1, 1000).describe('PostgreSQL connections per process.'),
  FLOWSCOPE_PARTITIONS_AHEAD_DAYS: envInt(3, 1, 365).describe('Daily partitions created ahead of today.'),
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
