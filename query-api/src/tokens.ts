import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '@flowscope/storage';

export type Role = 'admin' | 'viewer';
export const ROLES: readonly Role[] = ['viewer', 'admin'];

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** The caller a request authenticated as. */
export interface Principal {
  tokenId: number;
  name: string;
  role: Role;
}

/**
 * Tokens are 32 random bytes (256 bits), so a plain SHA-256 is enough to store them: there is
 * nothing to brute-force that a slow hash would protect. Only the hash and a short prefix (to
 * recognise a token in `token list`) are stored; the token itself is shown once.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export const generateToken = (): string => `fs_${randomBytes(32).toString('base64url')}`;

const prefixOf = (token: string) => token.slice(0, 10);

const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const TOKEN_COLUMNS = `id, name, role, token_prefix AS prefix, ${iso('created_at')} AS created_at,
  ${iso('last_used_at')} AS last_used_at, ${iso('revoked_at')} AS revoked_at`;

export async function createToken(
  db: Pick<Database, 'query'>,
  input: { name: string; role: Role; token?: string },
): Promise<{ token: string; info: TokenInfo }> {
  if (!ROLES.includes(input.role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
  if (input.name.trim() === '' || input.name.length > 200) throw new Error('name must be 1..200 characters');
  const token = input.token ?? generateToken();
  if (token.length < 16) throw new Error('a token must be at least 16 characters');
  const rows = await db.query<TokenInfo>(
    `INSERT INTO api_tokens (name, role, token_hash, token_prefix) VALUES ($1, $2, $3, $4) RETURNING ${TOKEN_COLUMNS}`,
    [input.name.trim(), input.role, hashToken(token), prefixOf(token)],
  );
  return { token, info: rows[0]! };
}

export async function listTokens(db: Pick<Database, 'query'>): Promise<TokenInfo[]> {
  return db.query<TokenInfo>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY id`);
}

/** Revokes a token; returns false when there is no such token or it was already revoked. */
export async function revokeToken(db: Pick<Database, 'query'>, id: number): Promise<boolean> {
  const rows = await db.query(`UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id`, [id]);
  return rows.length > 0;
}

/**
 * Looks a presented token up. Revocation takes effect on the next request (no cache).
 * `last_used_at` is refreshed at most once a minute per token, off the request path.
 */
export async function authenticate(db: Database, token: string, logger?: Logger): Promise<Principal | null> {
  const rows = await db.query<{ id: number; name: string; role: Role; stale: boolean }>(
    `SELECT id, name, role, (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds') AS stale
       FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
    [hashToken(token)],
  );
  const row = rows[0];
  if (!row) return null;
  if (row.stale) {
    db.query(`UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, [row.id]).catch((err: unknown) =>
      logger?.warn({ err }, 'could not record token use'),
    );
  }
  return { tokenId: row.id, name: row.name, role: row.role };
}

/**
 * First start: make sure an admin can get in. With `envToken` (FLOWSCOPE_ADMIN_TOKEN) that
 * token is registered as an admin token unless it already is; without it, an admin token is
 * generated and printed once, only when no usable admin token exists. Serialised with an
 * advisory lock so replicas starting together create one token, not several.
 * Returns the token when one was created.
 */
export async function ensureAdminToken(
  db: Database,
  logger: Logger,
  envToken?: string,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<{ created: boolean; token?: string }> {
  const result = await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flowscope_admin_token'))`, []);
    if (envToken) {
      const existing = await tx.query(`SELECT id, revoked_at FROM api_tokens WHERE token_hash = $1`, [hashToken(envToken)]);
      if (existing.length > 0) return { created: false as const };
      const { token } = await createToken(tx, { name: 'admin (FLOWSCOPE_ADMIN_TOKEN)', role: 'admin', token: envToken });
      return { created: true as const, token, fromEnv: true };
    }
    const admins = await tx.query(`SELECT id FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL LIMIT 1`, []);
    if (admins.length > 0) return { created: false as const };
    const { token } = await createToken(tx, { name: 'admin (first start)', role: 'admin' });
    return { created: true as const, token, fromEnv: false };
  });
  if (!result.created) return { created: false };
  if (result.fromEnv) {
    logger.info('registered FLOWSCOPE_ADMIN_TOKEN as an admin token');
  } else {
    logger.warn('no admin token existed: created one and printed it to stdout (shown only this once)');
    print(`flowscope admin token (shown once, store it now): ${result.token}`);
  }
  return { created: true, token: result.token };
}
