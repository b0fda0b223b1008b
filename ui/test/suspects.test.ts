import { describe, expect, it } from 'vitest';
import { suspectWhere, suspectWhy } from '../src/lib/suspects.ts';

describe('suspects in one line', () => {
  it('names where and why, with the main figure of each reason', () => {
    expect(suspectWhere({ component: 'search-api', operation: 'SELECT products' })).toBe('search-api · SELECT products');
    expect(suspectWhy({ reason: 'slow', ratio: 40, error_type: null, downstream: null })).toBe('slow, 40.0× usual');
    expect(suspectWhy({ reason: 'slow', ratio: null, error_type: null, downstream: null })).toBe('slow');
    expect(suspectWhy({ reason: 'error', ratio: null, error_type: 'UniqueViolation', downstream: null })).toBe('error UniqueViolation');
    expect(suspectWhy({ reason: 'error', ratio: null, error_type: null, downstream: null })).toBe('error');
    expect(suspectWhy({ reason: 'timeout', ratio: 3, error_type: null, downstream: 'psp.example' })).toBe('timeout waiting for psp.example');
    expect(suspectWhy({ reason: 'timeout', ratio: null, error_type: null, downstream: null })).toBe('timeout');
  });
});
