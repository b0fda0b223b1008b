/**
 * PostgreSQL COPY text format: one line per row, columns separated by tabs, NULL as \N,
 * and backslash, newline, carriage return and tab escaped inside values.
 * https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2
 */
export type CopyValue = string | number | boolean | null | undefined | object;

const needsEscape = /[\\\n\r\t]/;

export function escapeCopyText(s: string): string {
  if (!needsEscape.test(s)) return s;
  return s.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

export function copyField(v: CopyValue): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'string') return escapeCopyText(v.includes('\u0000') ? v.replaceAll('\u0000', '') : v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  // jsonb: PostgreSQL rejects \u0000 in jsonb text, so drop NUL characters before encoding.
  return escapeCopyText(JSON.stringify(v).replaceAll('\\u0000', ''));
}

export function copyLine(values: readonly CopyValue[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += copyField(values[i]);
  }
  return line + '\n';
}

/** Nanoseconds since the epoch to an ISO-8601 timestamp with microseconds (PostgreSQL's precision). */
export function nanosToIso(nanos: bigint): string {
  const ms = nanos / 1_000_000n;
  const micros = (nanos / 1000n) % 1000n;
  const base = new Date(Number(ms)).toISOString(); // ...sss Z
  return `${base.slice(0, -1)}${String(micros < 0n ? -micros : micros).padStart(3, '0')}Z`;
}
