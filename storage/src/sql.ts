/**
 * The hand-written SQL helpers of the read side, in one place. Readers use raw SQL where it is
 * clearly better than drizzle: timestamps rendered by PostgreSQL as ISO-8601 with microseconds
 * (identical on both drivers, so API answers do not depend on the driver), recursive CTEs,
 * unnest of histogram arrays, JSON containment on attributes, COUNT FILTER. Values never enter
 * the SQL text: they travel as numbered parameters.
 */

/** Anything that runs a statement: a Database or a transaction (Tx). */
export interface Queryable {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
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
