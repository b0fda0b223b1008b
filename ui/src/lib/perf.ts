/** Shaping of /performance answers and thresholds for the charts; no DOM. */

export interface PerfPoint {
  time: string;
  count: number;
  rate_per_second: number;
  error_count: number;
  error_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface RuleLike {
  metric: string;
  workflow_type: string | null;
  layer: string | null;
  component: string | null;
  warning_threshold: number | null;
  critical_threshold: number | null;
  enabled: boolean;
}

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
 * The warning and critical lines for a latency chart of a layer (and workflow type): the most
 * specific enabled latency rule (`duration_ms:p…`) whose scope covers it, else the defaults.
 */
export function thresholdsFor(rules: readonly RuleLike[], layer: string, workflowType: string): Thresholds | null {
  const fits = rules.filter(
    (r) => r.enabled && /^duration_ms:p\d+/.test(r.metric) && r.layer === layer && r.component === null && (r.workflow_type === null || r.workflow_type === workflowType),
  );
  fits.sort((a, b) => Number(b.workflow_type !== null) - Number(a.workflow_type !== null));
  const best = fits[0];
  if (best) return { warning: best.warning_threshold, critical: best.critical_threshold, source: `rule ${best.metric}` };
  const d = DEFAULT_THRESHOLDS[layer];
  return d ? { ...d, source: 'defaults' } : null;
}

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
