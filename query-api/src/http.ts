import { errors, FlowscopeError } from '@flowscope/common';
import { classifyDbError, storageErrorFor } from '@flowscope/storage';
import type { QueryApiConfig } from './config.ts';

export const { badRequest, notFound, unauthorized, forbidden } = errors;

/** Parses a date-time query value (already format-checked) into ms, refusing what PostgreSQL would. */
export function parseTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw badRequest(`${name} is not a valid date-time`);
  return ms;
}

/** `from`/`to` query values as ms; refuses a `from` after `to`. */
export function parseRange(q: { from?: string | undefined; to?: string | undefined }): { fromMs: number | undefined; toMs: number | undefined } {
  const fromMs = parseTime(q.from, 'from');
  const toMs = parseTime(q.to, 'to');
  if (fromMs !== undefined && toMs !== undefined && fromMs > toMs) throw badRequest('from must not be after to');
  return { fromMs, toMs };
}

/**
 * A `from`/`to` window with defaults: `to` is now, `from` is `defaultSpanMs` before `to`. Refuses a
 * `from` after `to` or, with `nonEmpty`, a `from` that is not before `to`.
 */
export function parseWindow(
  q: { from?: string | undefined; to?: string | undefined },
  defaultSpanMs: number,
  opts: { nonEmpty?: boolean } = {},
): { fromMs: number; toMs: number } {
  const toMs = parseTime(q.to, 'to') ?? Date.now();
  const fromMs = parseTime(q.from, 'from') ?? toMs - defaultSpanMs;
  if (opts.nonEmpty ? fromMs >= toMs : fromMs > toMs) {
    throw badRequest(opts.nonEmpty ? 'from must be before to' : 'from must not be after to');
  }
  return { fromMs, toMs };
}

export const dateTime = { type: 'string', format: 'date-time', maxLength: 64 } as const;
/** Free-text filter values (names, ids): bounded, any characters; compared as parameters. */
export const text = (maxLength = 256) => ({ type: 'string', minLength: 1, maxLength }) as const;

export const pageQuery = (config: QueryApiConfig) =>
  ({
    limit: { type: 'integer', minimum: 1, maximum: config.FLOWSCOPE_QUERY_MAX_PAGE_SIZE, default: Math.min(config.FLOWSCOPE_QUERY_DEFAULT_PAGE_SIZE, config.FLOWSCOPE_QUERY_MAX_PAGE_SIZE) },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
  }) as const;

export type { Page } from '@flowscope/storage';

/** `{data, total, limit, offset}` with data items as open objects. */
export const pageResponse = (item: object) =>
  ({
    type: 'object',
    required: ['data', 'total', 'limit', 'offset'],
    properties: {
      data: { type: 'array', items: item },
      total: { type: 'integer' },
      limit: { type: 'integer' },
      offset: { type: 'integer' },
    },
  }) as const;

export const errorResponse = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    code: { type: 'string' },
    error: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

/** Open object schema: documents the listed fields, passes any others through. */
export const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: true,
  required,
  properties,
});

export const str = { type: 'string' } as const;
export const nstr = { type: ['string', 'null'] } as const;
export const num = { type: 'number' } as const;
export const nnum = { type: ['number', 'null'] } as const;
export const int = { type: 'integer' } as const;
export const bool = { type: 'boolean' } as const;

export const commonResponses = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 429: errorResponse };

/**
 * A database error thrown by a route as the catalog's error (storage unavailable → 503 with
 * Retry-After, refused data → 400); anything else is returned unchanged.
 */
export function fromStorageError<E>(err: E, retryAfterSeconds: number): E | FlowscopeError {
  if (err instanceof FlowscopeError) return err;
  if ((err as { validation?: unknown }).validation !== undefined) return err;
  const cls = classifyDbError(err);
  return cls === 'internal' ? err : storageErrorFor(err, retryAfterSeconds);
}
