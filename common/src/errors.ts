/**
 * The error catalog: every error a flowscope process answers with, in one place. Each code has
 * an HTTP status, whether the client should retry (then it is sent Retry-After), whether its
 * message is safe to show a client, and the `reason` label it is counted under in metrics.
 * Receivers map retryable errors to 429/503 with Retry-After and permanent ones to 4xx; the gRPC
 * receiver maps the status to a gRPC code (collector/src/status.ts).
 */
export const ERROR_CATALOG = {
  FS_BAD_REQUEST: { status: 400, retryable: false, reason: 'invalid' },
  FS_UNAUTHORIZED: { status: 401, retryable: false, reason: 'unauthorized' },
  FS_FORBIDDEN: { status: 403, retryable: false, reason: 'forbidden' },
  FS_NOT_FOUND: { status: 404, retryable: false, reason: 'not_found' },
  FS_CONFLICT: { status: 409, retryable: false, reason: 'conflict' },
  FS_BODY_TOO_LARGE: { status: 413, retryable: false, reason: 'too_large' },
  FS_UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, reason: 'unsupported_media_type' },
  FS_UNSUPPORTED_ENCODING: { status: 415, retryable: false, reason: 'unsupported_encoding' },
  FS_RATE_LIMITED: { status: 429, retryable: true, reason: 'rate_limited' },
  FS_QUEUE_FULL: { status: 429, retryable: true, reason: 'queue_full' },
  FS_STORAGE_REFUSED_DATA: { status: 400, retryable: false, reason: 'storage_refused_data' },
  FS_INTERNAL: { status: 500, retryable: false, reason: 'internal' },
  FS_STORAGE_ERROR: { status: 500, retryable: false, reason: 'storage_error' },
  FS_MEMORY_LIMIT: { status: 503, retryable: true, reason: 'memory_limit' },
  FS_STORAGE_UNAVAILABLE: { status: 503, retryable: true, reason: 'storage_unavailable' },
  FS_SHUTTING_DOWN: { status: 503, retryable: true, reason: 'shutting_down' },
} as const satisfies Record<string, { status: number; retryable: boolean; reason: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class FlowscopeError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
    readonly options: { retryAfterSeconds?: number; expose?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FlowscopeError';
  }

  get retryable(): boolean {
    return this.options.retryAfterSeconds !== undefined;
  }

  get expose(): boolean {
    return this.options.expose ?? this.statusCode < 500;
  }

  /** The metric `reason` label of this error (from the catalog). */
  get reason(): string {
    return ERROR_CATALOG[this.code].reason;
  }
}

/** An error of the catalog with its status; `retryAfterSeconds` is required for retryable codes. */
function make(code: ErrorCode, message: string, options: { retryAfterSeconds?: number; cause?: unknown; status?: number } = {}): FlowscopeError {
  const entry = ERROR_CATALOG[code];
  const { status, ...rest } = options;
  return new FlowscopeError(code, status ?? entry.status, message, { ...rest, ...(entry.retryable ? { expose: true } : {}) });
}

/** The metric reason of any thrown error: the catalog's for ours, 'internal' for anything else. */
export function metricReasonOf(err: unknown): string {
  return err instanceof FlowscopeError ? err.reason : ERROR_CATALOG.FS_INTERNAL.reason;
}

export const errors = {
  /** `status` keeps a framework's own 4xx (e.g. 414) for a request it refused. */
  badRequest: (message: string, status?: number) => make('FS_BAD_REQUEST', message, status === undefined ? {} : { status }),
  unauthorized: (message = 'a valid bearer token is required') => make('FS_UNAUTHORIZED', message),
  forbidden: (message = 'this route needs an admin token') => make('FS_FORBIDDEN', message),
  notFound: (what: string) => make('FS_NOT_FOUND', `${what} not found`),
  conflict: (message: string) => make('FS_CONFLICT', message),
  rateLimited: (message: string, retryAfterSeconds: number, status = 429) => make('FS_RATE_LIMITED', message, { retryAfterSeconds, status }),
  internal: (cause?: unknown) => make('FS_INTERNAL', 'internal error', { cause }),
  unsupportedMediaType: (type: string) =>
    make('FS_UNSUPPORTED_MEDIA_TYPE', `unsupported content type "${type}": send application/x-protobuf or application/json`),
  unsupportedEncoding: (encoding: string) =>
    make('FS_UNSUPPORTED_ENCODING', `unsupported content encoding "${encoding}": send gzip or identity`),
  bodyTooLarge: (limit?: number) =>
    make('FS_BODY_TOO_LARGE', limit === undefined ? 'request body too large' : `request body exceeds the limit of ${limit} bytes (after decompression)`),
  memoryLimit: (retryAfterSeconds: number) => make('FS_MEMORY_LIMIT', 'collector is at its in-flight memory limit, retry later', { retryAfterSeconds }),
  queueFull: (retryAfterSeconds: number) => make('FS_QUEUE_FULL', 'writer queue is full, retry later', { retryAfterSeconds }),
  storageUnavailable: (retryAfterSeconds: number, cause?: unknown) =>
    make('FS_STORAGE_UNAVAILABLE', 'storage is unavailable, retry later', { retryAfterSeconds, cause }),
  /** The database refused this request's own data (SQLSTATE class 22, 23, 54): retrying cannot help. */
  storageRefusedData: (reason: string, cause?: unknown) => make('FS_STORAGE_REFUSED_DATA', `storage refused the data: ${reason}`, { cause }),
  /** Any other database error (a bug or a schema problem); its message is not shown to clients. */
  storageError: (cause?: unknown) => make('FS_STORAGE_ERROR', 'storage error', { cause }),
  shuttingDown: () => make('FS_SHUTTING_DOWN', 'collector is shutting down, retry later', { retryAfterSeconds: 1 }),
};
