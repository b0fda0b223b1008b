import type { PerfAnswer, PerfPoint, Rule } from './types.ts';

/** Shaping of /performance answers and thresholds for the charts; no DOM. */

export type { PerfPoint };

/** What the threshold lines need of a rule. */
export type RuleLike = Pick<Rule, 'metric' | 'workflow_type' | 'layer' | 'component' | 'warning_threshold' | 'critical_threshold' | 'enabled'>;

/** The defaults flowscope seeds its rules with (DEBUGGING_*_WARNING/CRITICAL), used when no rule applies. */
export const DEFAULT_THRESHOLDS: Record<string, { warning: number; critical: number }> = {
  api: { warning: 200, critical: 500 },
  database: { warning: 50, critical: 100 },
  frontend: { warning: 2000, critical: 5000 },
};

export interface Thresholds {
  warning: number | null;
  critical: number | null;
  source: string;
}

/**
 * The warning and critical lines for a latency chart of a layer (workflow type, component):
 * the most specific enabled latency rule (`duration_ms:p…`) whose scope covers it (a
 * component's rule before a workflow type's before the layer's), else the defaults.
 */
export function thresholdsFor(rules: readonly RuleLike[], layer: string, workflowType: string, component = ''): Thresholds | null {
  const fits = rules.filter(
    (r) =>
      r.enabled &&
      /^duration_ms:p\d+/.test(r.metric) &&
      r.layer === layer &&
      (r.component === null || r.component === component) &&
      (r.workflow_type === null || r.workflow_type === workflowType),
  );
  const rank = (r: RuleLike) => 2 * Number(r.component !== null) + Number(r.workflow_type !== null);
  fits.sort((a, b) => rank(b) - rank(a));
  const best = fits[0];
  if (best) return { warning: best.warning_threshold, critical: best.critical_threshold, source: `rule ${best.metric}${best.component ? ` of ${best.component}` : ''}` };
  const d = DEFAULT_THRESHOLDS[layer];
  return d ? { ...d, source: 'defaults' } : null;
}

export type LabelledSeries = PerfAnswer['series'][number];

export interface GroupRow {
  name: string;
  count: number;
  errors: number;
  /** The highest p95 of any step in the range. */
  worstP95: number | null;
}

/**
 * One line per group (e.g. per component) of a `group_by` answer: the `max` busiest groups by
 * span count, their `key` (p95 by default) as uPlot columns, and a row per group (all of them).
 */
export function groupColumns(series: readonly LabelledSeries[], group: string, max = 8, key: keyof PerfPoint = 'p95_ms'): { names: string[]; cols: (number | null)[][]; rows: GroupRow[] } {
  const rows: GroupRow[] = series.map((s) => {
    const p95s = s.points.map((p) => p.p95_ms).filter((v): v is number => v !== null);
    return {
      name: s.labels[group] ?? '?',
      count: s.points.reduce((a, p) => a + p.count, 0),
      errors: s.points.reduce((a, p) => a + p.error_count, 0),
      worstP95: p95s.length > 0 ? Math.max(...p95s) : null,
    };
  });
  const order = series.map((s, i) => ({ s, row: rows[i]! })).sort((a, b) => b.row.count - a.row.count || a.row.name.localeCompare(b.row.name));
  const top = order.slice(0, max);
  const xs = (top[0]?.s.points ?? []).map((p) => Date.parse(p.time) / 1000);
  const cols = [xs, ...top.map(({ s }) => s.points.map((p) => (typeof p[key] === 'number' ? (p[key] as number) : null)))];
  return { names: top.map((t) => t.row.name), cols, rows: order.map((o) => o.row) };
}

/** Distinct line colours for group charts (colour-blind friendly order). */
export const GROUP_COLORS = ['#2563eb', '#059669', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#475569', '#a16207'];

/** Columns for uPlot: x in seconds, then each series (null where there was no span). */
export function toColumns(points: readonly PerfPoint[], keys: readonly (keyof PerfPoint)[], scale: Partial<Record<keyof PerfPoint, number>> = {}): (number | null)[][] {
  const xs = points.map((p) => Date.parse(p.time) / 1000);
  return [xs, ...keys.map((k) => points.map((p) => {
    const v = p[k];
    return typeof v === 'number' ? v * (scale[k] ?? 1) : null;
  }))];
}

/** A step (seconds, multiple of 60) giving at most ~`max` points over `rangeMs`. */
export function stepFor(rangeMs: number, max = 240): number {
  const minutes = Math.max(1, Math.ceil(rangeMs / 60_000 / max));
  return minutes * 60;
}
