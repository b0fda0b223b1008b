import { findAlertCauses, type Queryable } from '@flowscope/storage';
import type { AlertCause } from './render.ts';
import type { ScopeField } from './rules.ts';

export interface CauseOptions {
  /** Hours before the alert window that make the operations' baselines. */
  baselineHours: number;
  /** Most causes listed. */
  limit: number;
}

const fmt = (v: number) => (v >= 100 ? `${Math.round(v)} ms` : v >= 10 ? `${v.toFixed(1)} ms` : `${v.toFixed(2)} ms`);

/**
 * What an alert email points at (storage's findAlertCauses): for latency rules (any statistic
 * but error_pct) the operations of the scope whose p95 in the window most exceeds their
 * baseline, for error-rate rules the most frequent error origins in traces that failed in the
 * rule's scope. Each with an exemplar workflow and one line of evidence.
 */
export async function alertCauses(
  db: Queryable,
  rule: { statistic: string; windowSeconds: number },
  scope: Record<ScopeField, string | null>,
  nowMs: number,
  options: CauseOptions,
): Promise<AlertCause[]> {
  const causes = await findAlertCauses(db, {
    errorRate: rule.statistic === 'error_pct',
    fromMs: nowMs - rule.windowSeconds * 1000,
    toMs: nowMs,
    baselineHours: options.baselineHours,
    workflowType: scope.workflow_type,
    layer: scope.layer,
    component: scope.component,
    limit: options.limit,
  });
  return causes.map((c) => ({
    layer: c.layer,
    component: c.component,
    operation: c.operation,
    detail:
      c.kind === 'error'
        ? `${c.count} failure${c.count === 1 ? '' : 's'} started here${c.errorType || c.message ? `: ${[c.errorType, c.message].filter(Boolean).join(': ')}` : ''}`
        : c.baselineP95Ms !== null
          ? `p95 ${fmt(c.windowP95Ms)} in the window vs ${fmt(c.baselineP95Ms)} usually (${c.ratio!.toFixed(1)}×, p50 usually ${fmt(c.baselineP50Ms ?? 0)}; ${c.windowCount} calls)`
          : `p95 ${fmt(c.windowP95Ms)} in the window (no baseline yet; ${c.windowCount} calls)`,
    exemplarWorkflowId: c.exemplarWorkflowId,
  }));
}
