import { mkdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { withDeadline } from '@flowscope/common';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';
import { lockDataDir } from './lock.ts';

export type Drizzle = PgDatabase<PgQueryResultHKT, typeof schema>;

/** How one statement is run. */
export interface QueryOptions {
  /**
   * PostgreSQL: run it as a named prepared statement, kept per connection by the driver (parsed
   * and planned once per connection, then from the plan cache). For hot statements of fixed
   * text only — one cache entry per distinct text and connection, never freed. PGlite: ignored.
   */
  prepare?: boolean;
}

/** What runs inside one transaction. */
export interface Tx {
  /** drizzle-orm inside this transaction (built on first use). */
  readonly drizzle: Drizzle;
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
  /**
   * Loads rows into `table` as fast as the driver can: COPY FROM STDIN on PostgreSQL, a
   * set-returning JSON insert on PGlite. `lines` are COPY text-format lines (see copy.ts).
   */
  copyIn(table: string, columns: readonly string[], lines: readonly string[], jsonRows: () => unknown[]): Promise<void>;
}

/**
 * A flowscope database: PostgreSQL through the `postgres` driver, or embedded PGlite.
 * Both run the same migrations and the same SQL; only bulk loading differs.
 */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  /** drizzle-orm over the same connection(s), for typed queries. */
  readonly drizzle: Drizzle;
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(timeoutMs?: number): Promise<void>;
  /** Closes connections. Safe to call twice. */
  close(): Promise<void>;
}

export interface PostgresOptions {
  url: string;
  maxConnections?: number;
  connectTimeoutSeconds?: number;
  /** Passed to the driver; tests use it to silence NOTICE output. */
  onnotice?: (n: unknown) => void;
}

export function openPostgres(options: PostgresOptions): Database {
  const sql = postgres(options.url, {
    max: options.maxConnections ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    idle_timeout: 30,
    onnotice: options.onnotice ?? (() => {}),
    // Text results for timestamps/bigints keep microsecond and 64-bit precision intact;
    // callers convert where they need numbers.
    types: {},
  });
  let closed = false;
  const txOf = (q: postgres.Sql | postgres.TransactionSql): Tx => ({
    get drizzle() {
      // A transaction's handle has no `options` of its own (drizzle reads its parsers there):
      // the pool's are the transaction's.
      const client = q === sql ? sql : (new Proxy(q, { get: (t, p) => (p === 'options' ? sql.options : Reflect.get(t, p)) }) as postgres.Sql);
      return drizzleOf(() => drizzlePostgres({ client, schema }) as unknown as Drizzle, this);
    },
    query: async <T>(text: string, params?: unknown[], options?: QueryOptions) =>
      (await q.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[], options?.prepare ? { prepare: true } : undefined)) as unknown as T[],
    copyIn: async (table, columns, lines) => {
      const writable: Writable = await q.unsafe(`COPY ${table} (${columns.join(', ')}) FROM STDIN`).writable();
      await pipeline(Readable.from(chunked(lines)), writable);
    },
  });
  return {
    kind: 'postgres',
    drizzle: drizzlePostgres(sql, { schema }) as unknown as Drizzle,
    query: async <T>(text: string, params?: unknown[], options?: QueryOptions) => txOf(sql).query<T>(text, params, options),
    transaction: async <T>(fn: (tx: Tx) => Promise<T>) => (await sql.begin((tx) => fn(txOf(tx)))) as T,
    ping: async (timeoutMs = 2000) => {
      await withDeadline(sql`SELECT 1`.execute(), timeoutMs, 'database ping timed out');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await sql.end({ timeout: 5 });
    },
  };
}

/** Builds a transaction's drizzle instance once and keeps it on the transaction object. */
function drizzleOf(build: () => Drizzle, tx: object): Drizzle {
  const d = build();
  Object.defineProperty(tx, 'drizzle', { value: d });
  return d;
}

/** Joins COPY lines into ~64 KiB chunks so the stream does not pay per-row overhead. */
function* chunked(lines: readonly string[]): Generator<string> {
  let buf = '';
  for (const line of lines) {
    buf += line;
    if (buf.length >= 65536) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

export interface PgliteOptions {
  /** Folder for the data files; undefined keeps everything in memory (tests). */
  dataDir?: string | undefined;
}

/**
 * Opens embedded PostgreSQL. A data directory is owned by one process: it is locked before
 * PGlite opens it (a second process gets DataDirInUseError, see lock.ts) and released on close.
 */
export async function openPglite(options: PgliteOptions): Promise<Database> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const lock = options.dataDir ? lockDataDir(options.dataDir) : undefined;
  let pg: PGlite;
  try {
    pg = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
    await pg.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }
  let closed = false;
  // PGlite is a single connection; serialise transactions so that concurrent callers do not
  // interleave statements inside one another's transaction.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };
  type Q = Pick<PGlite, 'query' | 'exec'>;
  const txOf = (q: Q): Tx => ({
    get drizzle() {
      return drizzleOf(() => drizzlePglite({ client: q as PGlite, schema }) as unknown as Drizzle, this);
    },
    // Without parameters, use the simple protocol so multi-statement SQL (migrations) runs.
    query: async <T>(text: string, params?: unknown[]) =>
      params && params.length > 0
        ? (await q.query<T>(text, params)).rows
        : (((await q.exec(text)).at(-1)?.rows ?? []) as T[]),
    copyIn: async (table, columns, _lines, jsonRows) => {
      // Same rows as the COPY path, as one JSON parameter.
      await q.query(
        `INSERT INTO ${table} (${columns.join(', ')})
         SELECT ${columns.join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::text::jsonb)`,
        [JSON.stringify(jsonRows())],
      );
    },
  });
  return {
    kind: 'pglite',
    drizzle: drizzlePglite(pg, { schema }) as unknown as Drizzle,
    query: <T>(text: string, params?: unknown[]) => serial(() => txOf(pg).query<T>(text, params)),
    transaction: <T>(fn: (tx: Tx) => Promise<T>) => serial(() => pg.transaction((tx) => fn(txOf(tx)))),
    ping: async () => {
      if (closed) throw new Error('database is closed');
      await serial(() => pg.query('SELECT 1'));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await chain.catch(() => undefined);
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  };
}

