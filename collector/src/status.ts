import { errors, FlowscopeError } from '@flowscope/common';

/**
 * How the collector's receivers (OTLP/HTTP and OTLP/gRPC) turn errors into statuses, in one
 * place: any thrown error into the catalog (common/src/errors.ts), and an HTTP status into the
 * google.rpc.Code the OTLP/HTTP error body and the gRPC status carry.
 */

/** google.rpc.Code matching an HTTP status, as the OTLP/HTTP error body carries it. */
export function grpcCodeFor(status: number): number {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return 3; // INVALID_ARGUMENT
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return 13; // INTERNAL
  }
}

/** Maps any thrown error (ours or Fastify's) into the catalog. */
export function toFlowscopeError(err: unknown, contentType?: string): FlowscopeError {
  if (err instanceof FlowscopeError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.unsupportedMediaType(contentType || '(none)');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.bodyTooLarge();
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return errors.badRequest(e.message ?? 'bad request', e.statusCode);
  return errors.internal(err);
}
