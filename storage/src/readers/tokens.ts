import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { apiTokens, type ApiTokenRecord } from '../schema.ts';
import { isoOf, run, type Queryable, type SnakeRow } from '../sql.ts';

/**
 * API tokens (api_tokens). Only a token's SHA-256 and a short prefix are stored, never the
 * token. Contract: `findActiveToken` ignores revoked tokens; revoking twice is a no-op (false);
 * times are ISO-8601 UTC with microseconds.
 */

export type TokenRole = ApiTokenRecord['role'];

/** One api_tokens row as every reader returns it (never the hash). */
export type TokenRow = SnakeRow<Pick<ApiTokenRecord, 'id' | 'name' | 'role' | 'createdAt' | 'lastUsedAt' | 'revokedAt'>> & {
  prefix: ApiTokenRecord['tokenPrefix'];
};

const TOKEN_COLUMNS = {
  id: apiTokens.id,
  name: apiTokens.name,
  role: apiTokens.role,
  prefix: apiTokens.tokenPrefix,
  created_at: isoOf(apiTokens.createdAt),
  last_used_at: isoOf(apiTokens.lastUsedAt),
  revoked_at: isoOf(apiTokens.revokedAt),
};

export async function insertToken(q: Queryable, t: { name: string; role: TokenRole; hash: string; prefix: string }): Promise<TokenRow> {
  const rows = await run(q.drizzle.insert(apiTokens).values({ name: t.name, role: t.role, tokenHash: t.hash, tokenPrefix: t.prefix }).returning(TOKEN_COLUMNS));
  return rows[0]!;
}

export function listTokens(q: Queryable): Promise<TokenRow[]> {
  return run(q.drizzle.select(TOKEN_COLUMNS).from(apiTokens).orderBy(asc(apiTokens.id)));
}

/** Revokes a token; false when there is no such token or it was already revoked. */
export async function revokeToken(q: Queryable, id: number): Promise<boolean> {
  const rows = await run(
    q.drizzle
      .update(apiTokens)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id }),
  );
  return rows.length > 0;
}

/**
 * The unrevoked token with this hash; `stale` when its last use was recorded over a minute ago (or never).
 * Every authenticated request runs it: raw SQL as a prepared statement (0.10 ms p50 against 0.35 ms
 * through drizzle's query builder, which also allocated ~35 KB a request).
 */
export async function findActiveToken(
  q: Queryable,
  hash: string,
): Promise<(Pick<ApiTokenRecord, 'id' | 'name' | 'role'> & { stale: boolean }) | undefined> {
  const [row] = await q.query<Pick<ApiTokenRecord, 'id' | 'name' | 'role'> & { stale: boolean }>(
    `SELECT id, name, role, (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds') AS stale
       FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hash],
    { prepare: true },
  );
  return row;
}

export async function recordTokenUse(q: Queryable, id: number): Promise<void> {
  await run(q.drizzle.update(apiTokens).set({ lastUsedAt: sql`now()` }).where(eq(apiTokens.id, id)));
}

/** Serialises admin-token bootstrap across replicas: holds until the calling transaction ends. */
export async function lockTokenBootstrap(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flowscope_admin_token'))`, []);
}

/** Whether a token with this hash exists (revoked or not). */
export async function tokenHashExists(q: Queryable, hash: string): Promise<boolean> {
  return (await run(q.drizzle.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.tokenHash, hash)))).length > 0;
}

/** Whether an unrevoked admin token exists. */
export async function activeAdminExists(q: Queryable): Promise<boolean> {
  const rows = await run(
    q.drizzle
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(and(eq(apiTokens.role, 'admin'), isNull(apiTokens.revokedAt)))
      .limit(1),
  );
  return rows.length > 0;
}
