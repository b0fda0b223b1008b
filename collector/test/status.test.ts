import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, errors } from '@flowscope/common';
import { grpcCodeFor, toFlowscopeError } from '../src/status.ts';

describe('receiver status mapping (shared by OTLP/HTTP and OTLP/gRPC)', () => {
  it.each([
    [400, 3], [413, 3], [415, 3], [401, 16], [403, 7], [429, 8], [503, 14], [500, 13], [404, 13],
  ])('HTTP %i → google.rpc.Code %i', (status, code) => {
    expect(grpcCodeFor(status)).toBe(code);
  });

  it('retryable catalog errors map to codes OTLP exporters retry (RESOURCE_EXHAUSTED, UNAVAILABLE)', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      if (entry.retryable) expect([8, 14], code).toContain(grpcCodeFor(entry.status));
    }
  });

  it('maps thrown errors into the catalog', () => {
    const ours = errors.queueFull(2);
    expect(toFlowscopeError(ours)).toBe(ours);
    expect(toFlowscopeError({ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }, 'text/plain')).toMatchObject({ code: 'FS_UNSUPPORTED_MEDIA_TYPE', statusCode: 415 });
    expect(toFlowscopeError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' })).toMatchObject({ code: 'FS_BODY_TOO_LARGE', statusCode: 413 });
    expect(toFlowscopeError({ statusCode: 414, message: 'uri too long' })).toMatchObject({ code: 'FS_BAD_REQUEST', statusCode: 414, message: 'uri too long' });
    const internal = toFlowscopeError(new Error('password=x'));
    expect([internal.code, internal.statusCode, internal.message, internal.expose]).toEqual(['FS_INTERNAL', 500, 'internal error', false]);
  });
});
