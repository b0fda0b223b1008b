import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { openPglite, openPostgres, type Database } from './driver.ts';
import { migrate } from './migrate.ts';
import { ensurePartitions } from './partitions.ts';

/**
 * Test helpers: every integration test file gets its own PostgreSQL database, so files run in
 * parallel. FLOWSCOPE_TEST_ADMIN_URL points at a server where the role may CREATE DATABASE.
 */
export const TEST_ADMIN_URL = process.env.FLOWSCOPE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(prefix = 'fs_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(TEST_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const a = postgres(TEST_ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

export type Driver = 'postgres' | 'pglite';

/** A migrated database of the given driver, and how to dispose of it. */
export async function openTestDatabase(driver: Driver): Promise<{ db: Database; url?: string; dispose(): Promise<void> }> {
  if (driver === 'pglite') {
    const db = await openPglite({});
    await migrate(db);
    await ensurePartitions(db);
    return { db, dispose: () => db.close() };
  }
  const t = await createTestDatabase();
  const db = openPostgres({ url: t.url, maxConnections: 4 });
  await migrate(db);
  await ensurePartitions(db);
  return {
    db,
    url: t.url,
    dispose: async () => {
      await db.close();
      await t.drop();
    },
  };
}
