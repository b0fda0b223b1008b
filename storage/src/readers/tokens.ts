import { iso, type Queryable } from '../sql.ts';

/**
 * API tokens (api_tokens). Only a token's SHA-256 and a short prefix are stored, never the
 * token. Contract: `findActiveToken` ignores revoked tokens; revoking twice is a no-op (false);
 * times are ISO-8601 UTC with microseconds.
 */

export type TokenRole = 'admin' | 'viewer';

/** One api_tokens row as every reader returns it (never the hash). */
export interface TokenRow {
  id: number;
  name: string;
  role: TokenRole;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const TOKEN_COLUMNS = `id, name, role, token_prefix AS prefix, ${iso('created_at')} AS created_at,
  ${iso('last_used_at')} AS last_used_at, ${iso('revoked_at')} AS revoked_at`;

export async function insertToken(q: Queryable, t: { name: string; role: TokenRole; hash: string; prefix: string }): Promise<TokenRow> {
  const rows = await q.query<TokenRow>(
    `INSERT INTO api_tokens (name, role, token_hash, token_prefix) VALUES ($1, $2, $3, $4) RETURNING ${TOKEN_COLUMNS}`,
    [t.name, t.role, t.hash, t.prefix],
  );
  return rows[0]!;
}

export function listTokens(q: Queryable): Promise<TokenRow[]> {
  return q.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY id`);
}

/** Revokes a token; false when there is no such token or it was already revoked. */
export async function revokeToken(q: Queryable, id: number): Promise<boolean> {
  const rows = await q.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id`, [id]);
  return rows.length > 0;
}

/** The unrevoked token with this hash; `stale` when its last use was recorded over a minute ago (or never). */
export async function findActiveToken(q: Queryable, hash: string): Promise<{ id: number; name: string; role: TokenRole; stale: boolean } | undefined> {
  const [row] = await q.query<{ id: number; name: string; role: TokenRole; stale: boolean }>(
    `SELECT id, name, role, (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds') AS stale
       FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hash],
  );
  return row;
}

export async function recordTokenUse(q: Queryable, id: number): Promise<void> {
  await q.query(`UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, [id]);
}

/** Serialises admin-token bootstrap across replicas: holds until the calling transaction ends. */
export async function lockTokenBootstrap(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flowscope_admin_token'))`, []);
}

/** Whether a token with this hash exists (revoked or not). */
export async function tokenHashExists(q: Queryable, hash: string): Promise<boolean> {
  return (await q.query(`SELECT id FROM api_tokens WHERE token_hash = $1`, [hash])).length > 0;
}

/** Whether an unrevoked admin token exists. */
export async function activeAdminExists(q: Queryable): Promise<boolean> {
  return (await q.query(`SELECT id FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1`, [])).length > 0;
}
