import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, errors, metricReasonOf, type FlowscopeError } from '../src/errors.ts';

describe('error catalog', () => {
  const built: FlowscopeError[] = [
    errors.badRequest('x'), errors.badRequest('uri too long', 414), errors.unauthorized(), errors.forbidden(), errors.notFound('rule'),
    errors.conflict('dup'), errors.rateLimited('slow down', 3), errors.internal(new Error('secret')), errors.unsupportedMediaType('text/plain'),
    errors.unsupportedEncoding('br'), errors.bodyTooLarge(10), errors.bodyTooLarge(), errors.memoryLimit(2), errors.queueFull(3),
    errors.storageUnavailable(5), errors.storageRefusedData('too long'), errors.storageError(), errors.shuttingDown(),
  ];

  it('every builder makes an error of the catalog with its status, retryability and reason', () => {
    for (const e of built) {
      const entry = ERROR_CATALOG[e.code];
      expect(e.statusCode === entry.status || e.statusCode === 414, e.code).toBe(true);
      expect(e.retryable, e.code).toBe(entry.retryable);
      if (e.retryable) expect(e.options.retryAfterSeconds, e.code).toBeGreaterThan(0);
      expect(e.reason).toBe(entry.reason);
      expect(metricReasonOf(e)).toBe(entry.reason);
    }
    // every code of the catalog has a builder
    expect(new Set(built.map((e) => e.code))).toEqual(new Set(Object.keys(ERROR_CATALOG)));
  });

  it('retryable errors are 429 or 503 and shown to clients; 5xx messages otherwise hidden', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      if (entry.retryable) expect([429, 503], code).toContain(entry.status);
    }
    expect(errors.storageUnavailable(5).expose).toBe(true);
    expect(errors.internal().expose).toBe(false);
    expect(errors.storageError().expose).toBe(false);
    expect(errors.notFound('alert').message).toBe('alert not found');
  });

  it('reasons are unique metric label values; anything outside the catalog is internal', () => {
    const reasons = Object.values(ERROR_CATALOG).map((e) => e.reason);
    expect(new Set(reasons).size).toBe(reasons.length);
    for (const r of reasons) expect(r).toMatch(/^[a-z_]+$/);
    expect(metricReasonOf(new Error('boom'))).toBe('internal');
  });
});
