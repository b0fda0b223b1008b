import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

/**
 * Regression test for the postgres.js patch (patches/postgres@3.4.9.patch, the row counter reset
 * in ReadyForQuery; upstream porsager/postgres#1119 / #1181): a query that fails after some rows
 * were sent (here a row whose JSON does not parse, as a pending row written by hand would) left
 * the driver's row counter where it stopped, and the next query on that connection resolved with
 * that many empty slots before its own rows: `const [r] = rows` read undefined (a count of
 * pending rows read 0 instead of 10). One connection, so the next query is on the same one.
 */
describe('postgres driver: a query that fails mid-stream', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await createTestDatabase('fs_driver_midstream');
    db = openPostgres({ url: t.url, maxConnections: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await t?.drop();
  });

  it('leaves the next query its own rows and nothing else', async () => {
    const failing = `SELECT (d::jsonb ->> 'n')::int AS n FROM (VALUES ('{"n":1}'), ('{"n":2}'), ('{"n":3}'), ('not json')) AS v(d)`;
    for (const params of [[], [1]] as unknown[][]) {
      await expect(db.query(params.length ? `${failing} WHERE $1::int = 1` : failing, params)).rejects.toThrow(/json/i);
      const rows = await db.query<{ x: number }>('SELECT 7 AS x');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toEqual({ x: 7 });
    }
  });
});
