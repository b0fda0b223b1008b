/**
 * The error catalog. Each error has a stable code, an HTTP status, whether its message is safe
 * to show to a client, and whether the client should retry (and after how long).
 * Receivers map retryable errors to 429/503 with Retry-After and permanent ones to 4xx.
 */
export class FlowscopeError extends Error {
  constructor(
    readonly code: string,
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
}

export const errors = {
  badRequest: (message: string) => new FlowscopeError('FS_BAD_REQUEST', 400, message),
  unsupportedMediaType: (type: string) =>
    new FlowscopeError(
      'FS_UNSUPPORTED_MEDIA_TYPE',
      415,
      `unsupported content type "${type}": send application/x-protobuf or application/json`,
    ),
  unsupportedEncoding: (encoding: string) =>
    new FlowscopeError('FS_UNSUPPORTED_ENCODING', 415, `unsupported content encoding "${encoding}": send gzip or identity`),
  bodyTooLarge: (limit: number) =>
    new FlowscopeError('FS_BODY_TOO_LARGE', 413, `request body exceeds the limit of ${limit} bytes (after decompression)`),
  memoryLimit: (retryAfterSeconds: number) =>
    new FlowscopeError('FS_MEMORY_LIMIT', 503, 'collector is at its in-flight memory limit, retry later', {
      retryAfterSeconds,
      expose: true,
    }),
  queueFull: (retryAfterSeconds: number) =>
    new FlowscopeError('FS_QUEUE_FULL', 429, 'writer queue is full, retry later', { retryAfterSeconds, expose: true }),
  storageUnavailable: (retryAfterSeconds: number, cause?: unknown) =>
    new FlowscopeError('FS_STORAGE_UNAVAILABLE', 503, 'storage is unavailable, retry later', {
      retryAfterSeconds,
      expose: true,
      cause,
    }),
  /** The database refused this request's own data (SQLSTATE class 22, 23, 54): retrying cannot help. */
  storageRefusedData: (reason: string, cause?: unknown) =>
    new FlowscopeError('FS_STORAGE_REFUSED_DATA', 400, `storage refused the data: ${reason}`, { cause }),
  /** Any other database error (a bug or a schema problem); its message is not shown to clients. */
  storageError: (cause?: unknown) => new FlowscopeError('FS_STORAGE_ERROR', 500, 'storage error', { cause }),
  shuttingDown: () =>
    new FlowscopeError('FS_SHUTTING_DOWN', 503, 'collector is shutting down, retry later', {
      retryAfterSeconds: 1,
      expose: true,
    }),
};
