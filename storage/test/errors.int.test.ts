import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, storageErrorFor, classifyDbError, type Database } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

/** Issue 13 (2, 5): real database errors land in the right class and status. */
describe('database error classes', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase();
    db = openPostgres({ url: t.url, maxConnections: 2 });
    await db.query('CREATE TABLE e (id int PRIMARY KEY, t text, at timestamptz)');
    await db.query('CREATE INDEX e_t ON e (t)');
  });
  afterAll(async () => {
    await db.close();
    await t.drop();
  });
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      return err;
    }
    throw new Error('expected the query to fail');
  };

  it.each([
    // An index row past 2704 bytes (54000 program_limit_exceeded): the request's data.
    ['index row too large', `INSERT INTO e (id, t) SELECT 1, string_agg(md5(i::text), '') FROM generate_series(1, 200) i`, 'data', 400],
    ['invalid text representation', `SELECT 'abc'::int`, 'data', 400],
    ['timestamp out of range', `INSERT INTO e (id, at) VALUES (2, '294277-01-01'::timestamptz)`, 'data', 400],
    ['unique violation', `INSERT INTO e (id) VALUES (3), (3)`, 'data', 400],
    ['undefined table (a bug, not the caller)', `SELECT * FROM no_such_table`, 'internal', 500],
  ])('%s → %s, %i', async (_name, sql, cls, status) => {
    const err = await errorOf(db.query(sql));
    expect(classifyDbError(err)).toBe(cls);
    const e = storageErrorFor(err, 4);
    expect(e.statusCode).toBe(status);
    if (status === 400) expect(e.expose).toBe(true);
    if (status === 500) expect(e.expose).toBe(false);
  });

  it('a database that cannot be reached, or a closed one → unavailable, 503 with Retry-After', async () => {
    const down = openPostgres({ url: 'postgres://postgres@127.0.0.1:1/none', maxConnections: 1 });
    try {
      const err = await errorOf(down.query('SELECT 1'));
      expect(classifyDbError(err)).toBe('unavailable');
      const e = storageErrorFor(err, 4);
      expect([e.statusCode, e.options.retryAfterSeconds]).toEqual([503, 4]);
    } finally {
      await down.close();
    }
    const closed = openPostgres({ url: t.url, maxConnections: 1 });
    await closed.close();
    const err = await errorOf(closed.query('SELECT 1'));
    expect(storageErrorFor(err, 2).statusCode).toBe(503);
  });
});
