import { errors, FlowscopeError } from '@flowscope/common';

/**
 * What a database error means for the caller, by SQLSTATE class (PostgreSQL appendix A) and by
 * the drivers' own connection errors:
 * - `unavailable`: the database cannot be reached or cannot work right now (connection,
 *   shutdown, too many connections, out of disk/memory, lock or statement timeout): retry later,
 *   answer 503 with Retry-After.
 * - `retry`: a serialization failure or deadlock: run the transaction again.
 * - `data`: the request's own data was refused (data exception, integrity constraint, program
 *   limit such as an index row too large): answer 400, retrying the same data cannot help.
 * - `internal`: anything else (a bug or a schema problem): 500.
 */
export type DbErrorClass = 'unavailable' | 'retry' | 'data' | 'internal';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
  '55006', // object_in_use
  '25006', // read_only_sql_transaction (a standby during fail-over)
]);

export const dbErrorCode = (err: unknown): string => String((err as { code?: unknown } | null | undefined)?.code ?? '');

export function classifyDbError(err: unknown): DbErrorClass {
  const code = dbErrorCode(err);
  if (CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('53') || code.startsWith('58')) return 'unavailable';
  if (/database is closed|ping timed out|PGlite is closed|write CONNECTION_CLOSED/i.test(String((err as Error | undefined)?.message ?? err))) {
    return 'unavailable';
  }
  if (code === '40001' || code === '40P01') return 'retry';
  if (code.startsWith('22') || code.startsWith('23') || code === '54000' || code === '54001' || code === '54011') return 'data';
  return 'internal';
}

export const isConnectionError = (err: unknown): boolean => classifyDbError(err) === 'unavailable';

/**
 * For a process's main(): when PostgreSQL drops the connections, postgres.js has rejected
 * promises nobody holds with the bare socket error ("read ECONNRESET", no stack into our code;
 * porsager/postgres#600; the array-type query is patched, see patches/). Such a connection error
 * is logged and the process goes on (the database is the record, every caller retries); any
 * other unhandled rejection still ends the process as Node does.
 */
export function surviveLostConnections(logger: { warn(obj: object, msg: string): void }): void {
  process.on('unhandledRejection', (err) => {
    if (!isConnectionError(err)) throw err;
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'database connection lost outside a query; callers retry');
  });
}

/**
 * A database error as the catalog's error: unavailable → 503 with Retry-After, data → 400
 * naming what PostgreSQL refused, a retryable conflict → 503 (the caller ran out of retries),
 * anything else → 500 (message not shown to clients). FlowscopeErrors pass through.
 */
export function storageErrorFor(err: unknown, retryAfterSeconds: number): FlowscopeError {
  if (err instanceof FlowscopeError) return err;
  switch (classifyDbError(err)) {
    case 'unavailable':
    case 'retry':
      return errors.storageUnavailable(retryAfterSeconds, err);
    case 'data':
      return errors.storageRefusedData(String((err as Error | undefined)?.message ?? err), err);
    default:
      return errors.storageError(err);
  }
}
