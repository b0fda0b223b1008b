/**
 * Run as its own process by driver-closed-connection.int.test.ts (a crash here is an
 * uncaughtException that would take a test worker down): a flowscope storage transaction whose
 * PostgreSQL backend is terminated under it, as on a PostgreSQL restart. Prints one JSON line
 * with how the transaction settled and whether the pool still answers after; exits 0. Without
 * the postgres.js patch (patches/postgres@3.4.9.patch, the nextWrite guard) a write the driver
 * deferred with setImmediate reached the socket that closed() had set to null, threw a
 * TypeError no caller can catch, and the process died with exit 1.
 *
 *   DATABASE_URL=… node --conditions=flowscope-source --import tsx storage/test/scripts/backend-dies.ts
 */
import { openPostgres } from '@flowscope/storage';

const db = openPostgres({ url: process.env.DATABASE_URL!, maxConnections: 2 });
const code = (e: unknown) => String((e as { code?: unknown }).code ?? (e as Error).message);

const outcome = await db.transaction((tx) => tx.query('SELECT pg_terminate_backend(pg_backend_pid())')).then(
  () => 'committed',
  (e: unknown) => `rejected ${code(e)}`,
);
// the driver's deferred writes run on the next turns of the loop: give them their turn
await new Promise((r) => setTimeout(r, 300));
const after = await db.query<{ x: number }>('SELECT 1 AS x').then(
  (rows) => `answers ${rows[0]?.x}`,
  (e: unknown) => `fails ${code(e)}`,
);
await db.close();
process.stdout.write(`${JSON.stringify({ outcome, after })}\n`);
