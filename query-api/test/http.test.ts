import { describe, expect, it } from 'vitest';
import { parseRange, parseWindow } from '../src/http.ts';

const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    const e = err as { statusCode?: number; message: string };
    return { status: e.statusCode, message: e.message };
  }
  return undefined;
};

describe('time-range parsing', () => {
  const a = '2025-06-01T10:00:00Z';
  const b = '2025-06-01T11:00:00Z';

  it('parseRange leaves absent bounds open and refuses from after to', () => {
    expect(parseRange({})).toEqual({ fromMs: undefined, toMs: undefined });
    expect(parseRange({ from: a, to: a })).toEqual({ fromMs: Date.parse(a), toMs: Date.parse(a) });
    expect(refusal(() => parseRange({ from: b, to: a }))).toEqual({ status: 400, message: 'from must not be after to' });
    expect(refusal(() => parseRange({ from: '2025-06-01T23:59:60Z' }))).toEqual({ status: 400, message: 'from is not a valid date-time' });
  });

  it('parseWindow defaults to to minus the span, to to now', () => {
    expect(parseWindow({ to: b }, 3_600_000)).toEqual({ fromMs: Date.parse(a), toMs: Date.parse(b) });
    const before = Date.now();
    const w = parseWindow({}, 60_000);
    expect(w.toMs).toBeGreaterThanOrEqual(before);
    expect(w.toMs - w.fromMs).toBe(60_000);
  });

  it('parseWindow refuses from after to, and with nonEmpty from equal to to', () => {
    expect(parseWindow({ from: a, to: a }, 1)).toEqual({ fromMs: Date.parse(a), toMs: Date.parse(a) });
    expect(refusal(() => parseWindow({ from: b, to: a }, 1))).toEqual({ status: 400, message: 'from must not be after to' });
    expect(refusal(() => parseWindow({ from: a, to: a }, 1, { nonEmpty: true }))).toEqual({ status: 400, message: 'from must be before to' });
    expect(refusal(() => parseWindow({ from: b, to: a }, 1, { nonEmpty: true }))).toEqual({ status: 400, message: 'from must be before to' });
    expect(refusal(() => parseWindow({ to: 'x' }, 1))).toEqual({ status: 400, message: 'to is not a valid date-time' });
  });
});
