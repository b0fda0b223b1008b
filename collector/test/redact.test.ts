import { describe, expect, it } from 'vitest';
import { collectorConfig } from './helpers.ts';
import { REDACTED, Redactor, sanitizeSql } from '../src/redact.ts';

describe('value redaction', () => {
  it('keeps ordinary text as it is', () => {
    const r = new Redactor();
    for (const v of ['plain message: 42 items at 12:30', 'https://shop.example.com/cart', 'GET /api/orders/:id', 'SELECT 1 FROM t WHERE id = $1']) {
      expect(r.scrub(v)).toBe(v);
    }
  });

  it('replaces SQL literals with ? only under statement keys', () => {
    expect(sanitizeSql("INSERT INTO t (a, b) VALUES ('it''s', 3.14) RETURNING id")).toBe('INSERT INTO t (a, b) VALUES (?, ?) RETURNING id');
    const r = new Redactor();
    expect(r.scrub("WHERE name = 'bob' AND id = 7", 'db.statement')).toBe('WHERE name = ? AND id = ?');
    expect(r.scrub("WHERE name = 'bob'", 'app.note')).toBe("WHERE name = 'bob'");
  });

  it('FLOWSCOPE_REDACT_VALUE_PATTERNS adds patterns; FLOWSCOPE_REDACT_VALUES=false keeps to keys', () => {
    const config = collectorConfig({ FLOWSCOPE_REDACT_VALUE_PATTERNS: '["order-secret-[0-9]+"]', FLOWSCOPE_REDACT_VALUES: 'false' });
    const r = new Redactor(config.FLOWSCOPE_REDACT_KEYS, { values: config.FLOWSCOPE_REDACT_VALUES, patterns: config.FLOWSCOPE_REDACT_VALUE_PATTERNS });
    expect(r.scrub('ref ORDER-SECRET-991 ok')).toBe(`ref ${REDACTED} ok`);
    expect(r.scrub('password=hunter2')).toBe('password=hunter2');
    expect(() => collectorConfig({ FLOWSCOPE_REDACT_VALUE_PATTERNS: '["("]' })).toThrow(/not a regular expression/);
    expect(() => collectorConfig({ FLOWSCOPE_REDACT_VALUE_PATTERNS: 'abc' })).toThrow(/JSON array/);
  });
});
