import type { BenchRow } from './context.ts';

const fmt = (v: number, unit: string): string => {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'spans/s' || (Number.isInteger(v) && Math.abs(v) >= 1000)) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
};

/** One plain-text table: section, measurement, value, ratio to its baseline, target. */
export function formatTable(rows: readonly BenchRow[], title: string): string {
  const cells = rows.map((r) => [
    r.section,
    r.name,
    `${fmt(r.value, r.unit)} ${r.unit}`,
    r.ratio === null ? '—' : r.ratio.toFixed(2),
    r.baseline,
    r.target ? `${r.target}${r.met === true ? ' ✓' : r.met === false ? ' ✗' : ''}` : '',
    r.extra ? Object.entries(r.extra).map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v, k.endsWith('spans/s') ? 'spans/s' : '') : v}`).join(' ') : '',
  ]);
  const head = ['section', 'measurement', 'value', 'ratio', 'baseline', 'target', 'details'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 2 || i === 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [title, '', line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
