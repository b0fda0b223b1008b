import { alertScope, emptyBuckets, mergeBuckets, quantile, snapshotsInWindow, type Queryable } from '@flowscope/storage';
import { EACH, SCOPE_FIELDS, type AlertRule, type ScopeField, type Statistic } from './rules.ts';


/** What a rule measured for one scope over its window. */
export interface ScopeValue {
  /** `workflow_type=checkout,…` over the rule's `*` fields; '' when the rule has none. */
  scopeKey: string;
  /** The scope as shown to people: a value, or null for "all". */
  scope: Record<ScopeField, string | null>;
  /** null when the window holds fewer observations than the minimum. */
  value: number | null;
  count: number;
  errorCount: number;
}

const QUANTILES: Partial<Record<Statistic, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

export function scopeKeyOf(rule: Pick<AlertRule, ScopeField>, values: Record<ScopeField, string>): string {
  return SCOPE_FIELDS.filter((f) => rule[f] === EACH)
    .map((f) => `${f}=${values[f]}`)
    .join(',');
}

/** Inverse of scopeKeyOf, for firing alerts whose scope has no data any more. */
export function scopeFromKey(rule: Pick<AlertRule, ScopeField>, key: string): Record<ScopeField, string | null> {
  return alertScope(rule, key);
}

/**
 * The rule's value per scope over the minute snapshots that overlap (now − window, now].
 * Histograms of the minutes and components in a scope are merged before the quantile is read,
 * so a p95 is the p95 of all the scope's observations, not an average of p95s.
 */
export async function computeValues(q: Queryable, rule: AlertRule, nowMs: number, minSamples: number): Promise<Map<string, ScopeValue>> {
  const scope: Partial<Record<ScopeField, string>> = {};
  for (const f of SCOPE_FIELDS) {
    const v = rule[f];
    if (v !== null && v !== EACH) scope[f] = v;
  }
  const rows = await snapshotsInWindow(q, {
    metric: rule.snapshotMetric,
    fromIso: new Date(nowMs - rule.windowSeconds * 1000 - 60_000).toISOString(),
    toIso: new Date(nowMs).toISOString(),
    scope,
  });
  const acc = new Map<string, { scope: Record<ScopeField, string | null>; count: number; errors: number; sum: number; min: number | null; max: number | null; buckets: number[] }>();
  for (const r of rows) {
    const key = scopeKeyOf(rule, r);
    let a = acc.get(key);
    if (!a) {
      const scope = {} as Record<ScopeField, string | null>;
      for (const f of SCOPE_FIELDS) scope[f] = rule[f] === EACH ? r[f] : rule[f];
      a = { scope, count: 0, errors: 0, sum: 0, min: null, max: null, buckets: emptyBuckets() };
      acc.set(key, a);
    }
    a.count += Number(r.count);
    a.errors += Number(r.error_count);
    a.sum += Number(r.sum);
    if (r.min !== null) a.min = a.min === null ? Number(r.min) : Math.min(a.min, Number(r.min));
    if (r.max !== null) a.max = a.max === null ? Number(r.max) : Math.max(a.max, Number(r.max));
    mergeBuckets(a.buckets, r.buckets);
  }
  const out = new Map<string, ScopeValue>();
  for (const [key, a] of acc) {
    out.set(key, {
      scopeKey: key,
      scope: a.scope,
      value: a.count < minSamples ? null : statistic(rule.statistic, a),
      count: a.count,
      errorCount: a.errors,
    });
  }
  return out;
}

function statistic(
  s: Statistic,
  a: { count: number; errors: number; sum: number; min: number | null; max: number | null; buckets: number[] },
): number | null {
  if (a.count === 0) return null;
  const q = QUANTILES[s];
  if (q !== undefined) return quantile(a.buckets, q, a.min, a.max);
  switch (s) {
    case 'avg':
      return a.sum / a.count;
    case 'max':
      return a.max;
    case 'error_pct':
      return (100 * a.errors) / a.count;
    default:
      return null;
  }
}
