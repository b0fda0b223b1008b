import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  activeAdminExists, findActiveToken, insertToken, listTokens, lockTokenBootstrap, recordTokenUse, revokeToken, tokenHashExists,
  type Database, type Queryable, type TokenRole, type TokenRow,
} from '@flowscope/storage';

export type Role = TokenRole;
export const ROLES: readonly Role[] = ['viewer', 'admin'];
export type TokenInfo = TokenRow;
export { listTokens, revokeToken };

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

export async function createToken(
  db: Queryable,
  input: { name: string; role: Role; token?: string },
): Promise<{ token: string; info: TokenInfo }> {
  if (!ROLES.includes(input.role)) throw new Error(`role must be one of ${ROLES.join(', ')}`);
  if (input.name.trim() === '' || input.name.length > 200) throw new Error('name must be 1..200 characters');
  const token = input.token ?? generateToken();
  if (token.length < 16) throw new Error('a token must be at least 16 characters');
  const info = await insertToken(db, { name: input.name.trim(), role: input.role, hash: hashToken(token), prefix: prefixOf(token) });
  return { token, info };
}

/**
 * Looks a presented token up. Revocation takes effect on the next request (no cache).
 * `last_used_at` is refreshed at most once a minute per token, off the request path.
 */
export async function authenticate(db: Database, token: string, logger?: Logger): Promise<Principal | null> {
  const row = await findActiveToken(db, hashToken(token));
  if (!row) return null;
  if (row.stale) {
    recordTokenUse(db, row.id).catch((err: unknown) =>
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
    await lockTokenBootstrap(tx);
    if (envToken) {
      if (await tokenHashExists(tx, hashToken(envToken))) return { created: false as const };
      const { token } = await createToken(tx, { name: 'admin (FLOWSCOPE_ADMIN_TOKEN)', role: 'admin', token: envToken });
      return { created: true as const, token, fromEnv: true };
    }
    if (await activeAdminExists(tx)) return { created: false as const };
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
