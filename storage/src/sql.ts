import { DrizzleQueryError, eq, getTableColumns, gte, lt, sql, type Column, type SQL, type Table } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Drizzle, QueryOptions } from './driver.ts';

/**
 * The hand-written SQL helpers of the read side, in one place. Readers use raw SQL where it is
 * clearly better than drizzle: timestamps rendered by PostgreSQL as ISO-8601 with microseconds
 * (identical on both drivers, so API answers do not depend on the driver), recursive CTEs,
 * unnest of histogram arrays, JSON containment on attributes, COUNT FILTER. Values never enter
 * the SQL text: they travel as numbered parameters.
 */

/** Anything that runs a statement, raw or through drizzle: a Database or a transaction (Tx). */
export interface Queryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<T[]>;
  readonly drizzle: Drizzle;
}

/** SQL fragment: a timestamptz column as ISO-8601 UTC with microseconds (same on both drivers). */
export const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
/** SQL fragment: a timestamptz column as microseconds since the epoch (exact in a float8 until year 2255). */
export const micros = (col: string) => `(extract(epoch FROM ${col}) * 1000000)::float8`;

/** Collects WHERE conditions with numbered parameters; values never enter the SQL text. */
export class Where {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];
  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }
  /** `sql` uses `?` for the value's placeholder; skipped when value is undefined. */
  add(sql: string, value?: unknown): this {
    if (arguments.length > 1 && value === undefined) return this;
    this.conditions.push(arguments.length > 1 ? sql.replace('?', this.param(value)) : sql);
    return this;
  }
  toString(): string {
    return this.conditions.length > 0 ? `WHERE ${this.conditions.join(' AND ')}` : '';
  }
}

/** A page of a list: `limit` rows from `offset`. */
export interface Page {
  limit: number;
  offset: number;
}

/** A page of rows and how many match in all. */
export interface Paged<T> {
  data: T[];
  total: number;
}

/** `x >= from` / `x < to` as ISO strings; undefined bounds are left out. */
export const isoOrUndefined = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Counts the matching rows and reads one page of them, ordered by `orderBy`. */
export async function pageOf<T>(
  db: Queryable,
  q: { from: string; columns: string; orderBy: string; countFrom?: string },
  w: Where,
  page: Page,
): Promise<Paged<T>> {
  const { from, columns, orderBy } = q;
  const [count] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${q.countFrom ?? from} ${w}`, w.params);
  const data = await db.query<T>(
    `SELECT ${columns} FROM ${from} ${w} ORDER BY ${orderBy} LIMIT ${w.param(page.limit)} OFFSET ${w.param(page.offset)}`,
    w.params,
  );
  return { data, total: count?.n ?? 0 };
}

/**
 * drizzle side. The row types of every table come from storage/src/schema.ts; the API answers
 * in snake_case (the column names), with timestamps as ISO-8601 UTC with microseconds.
 */

/**
 * Runs a drizzle query. A failure is the driver's own error, as a raw query gives it (drizzle
 * wraps it), so error classification (SQLSTATE codes, see errors.ts) works the same for both.
 */
export async function run<T>(query: PromiseLike<T>): Promise<T> {
  try {
    return await query;
  } catch (err) {
    throw err instanceof DrizzleQueryError && err.cause !== undefined ? err.cause : err;
  }
}

/**
 * A page of a drizzle list: counts the rows of `table` matching `where`, then reads `page` of
 * `rows` (the select of those rows, filtered by the same `where` and ordered).
 */
export async function pageOfRows<T>(
  db: Queryable,
  table: PgTable,
  where: SQL | undefined,
  rows: { limit(n: number): { offset(n: number): PromiseLike<T[]> } },
  page: Page,
): Promise<Paged<T>> {
  const total = await run(db.drizzle.$count(table, where));
  const data = await run(rows.limit(page.limit).offset(page.offset));
  return { data, total };
}

/** `column = value` as a drizzle condition, or none (undefined, which `and` skips) when value is undefined. */
export const eqIf = <C extends Column>(column: C, value: C['_']['data'] | undefined) => (value === undefined ? undefined : eq(column, value));

/** `column >= ms` (a timestamptz column, `ms` since the epoch), or none when ms is undefined. */
export const atOrAfterIf = (column: Column, ms: number | undefined) => (ms === undefined ? undefined : gte(column, new Date(ms).toISOString()));
/** `column < ms` (a timestamptz column, `ms` since the epoch), or none when ms is undefined. */
export const beforeIf = (column: Column, ms: number | undefined) => (ms === undefined ? undefined : lt(column, new Date(ms).toISOString()));

/** `workflowType` → `workflow_type` (the schema's property names are the camelCase of the column names). */
type SnakeKey<S extends string> = S extends `${infer H}${infer R}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeKey<R>}` : S;

/** A schema row type with the column names as keys (what the API answers with). */
export type SnakeRow<T> = { [K in keyof T as K extends string ? SnakeKey<K> : never]: T[K] };

/** A timestamptz column as ISO-8601 UTC with microseconds (the fragment `iso` renders), typed by the column. */
export const isoOf = <C extends AnyPgColumn>(col: C) =>
  sql<C['_']['notNull'] extends true ? string : string | null>`to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The selection of a table's columns keyed by column name (`omit`: by property name), with
 * timestamps rendered by `isoOf`; drizzle then returns SnakeRow<row type> minus `omit`.
 */
export function snakeColumns<T extends Table, O extends keyof T['_']['columns'] & string = never>(
  table: T,
  omit: readonly O[] = [],
): { [K in Exclude<keyof T['_']['columns'], O> & string as SnakeKey<K>]: T['_']['columns'][K] } {
  const out: Record<string, unknown> = {};
  for (const [key, col] of Object.entries(getTableColumns(table)) as [string, AnyPgColumn][]) {
    if ((omit as readonly string[]).includes(key)) continue;
    // A timestamp selected as text: the type drizzle infers (string) is the same.
    out[col.name] = col.columnType === 'PgTimestampString' ? isoOf(col) : col;
  }
  return out as never;
}
