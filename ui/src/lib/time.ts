/** Time helpers shared by the pages; no DOM, no framework. */

/**
 * Milliseconds since the epoch of an API time (ISO-8601 UTC with up to microseconds), keeping
 * the microseconds as a fraction (Date.parse drops them).
 */
export function parseIsoMs(iso: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return Date.parse(iso);
  const whole = Date.parse(`${m[1]}Z`);
  const frac = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return whole + frac;
}

/** A duration for people: 850 µs, 12.3 ms, 1.24 s, 2 min 5 s, 1 h 3 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms === 0) return '0';
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${Math.round(s - min * 60)} s`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

/** A UTC time for people, to the second (`2026-12-03 10:35:07`), or with milliseconds. */
export function formatTime(iso: string | null | undefined, withMs = false): string {
  if (!iso) return '—';
  const d = new Date(parseIsoMs(iso));
  if (Number.isNaN(d.getTime())) return iso;
  const s = d.toISOString().replace('T', ' ');
  return withMs ? s.slice(0, 23) : s.slice(0, 19);
}

/** "3 min ago" style relative time against `now`. */
export function formatAgo(iso: string, now: number): string {
  const d = Math.max(0, now - parseIsoMs(iso)) / 1000;
  if (d < 60) return `${Math.round(d)} s ago`;
  if (d < 3600) return `${Math.round(d / 60)} min ago`;
  if (d < 86400) return `${Math.round(d / 3600)} h ago`;
  return `${Math.round(d / 86400)} d ago`;
}

export const QUICK_RANGES = [
  { key: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: 'Last hour', ms: 3600_000 },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 3600_000 },
  { key: '24h', label: 'Last 24 hours', ms: 24 * 3600_000 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 24 * 3600_000 },
  { key: 'all', label: 'Any time', ms: 0 },
] as const;

export type RangeKey = (typeof QUICK_RANGES)[number]['key'];

/** from/to (ISO) of a quick range at `now`; `all` is unbounded. */
export function rangeBounds(key: string, now: number): { from?: string; to?: string } {
  const r = QUICK_RANGES.find((q) => q.key === key);
  if (!r || r.ms === 0) return {};
  return { from: new Date(now - r.ms).toISOString() };
}
