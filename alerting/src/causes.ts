import { topErrorOrigins, topSlowOperations, type Queryable } from '@flowscope/storage';
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
 * What an alert email and page point at. Latency rules (any statistic but error_pct): the
 * operations of the scope's workflow type whose p95 in the window most exceeds their baseline
 * (every layer: a slow API is often a slow query). Error-rate rules: the most frequent error
 * origins in traces that failed in the rule's scope. Each with an exemplar workflow.
 */
export async function alertCauses(
  db: Queryable,
  rule: { statistic: string; windowSeconds: number },
  scope: Record<ScopeField, string | null>,
  nowMs: number,
  options: CauseOptions,
): Promise<AlertCause[]> {
  const fromMs = nowMs - rule.windowSeconds * 1000;
  if (rule.statistic === 'error_pct') {
    const origins = await topErrorOrigins(db, {
      fromMs, toMs: nowMs, workflowType: scope.workflow_type, layer: scope.layer, component: scope.component, limit: options.limit,
    });
    return origins.map((o) => ({
      layer: o.layer,
      component: o.component,
      operation: o.operation,
      detail: `${o.count} failure${o.count === 1 ? '' : 's'} started here${o.errorType || o.message ? `: ${[o.errorType, o.message].filter(Boolean).join(': ')}` : ''}`,
      exemplarWorkflowId: o.exemplarWorkflowId,
    }));
  }
  const slow = await topSlowOperations(db, {
    fromMs, toMs: nowMs, baselineHours: options.baselineHours, workflowType: scope.workflow_type, limit: options.limit,
  });
  return slow.map((o) => ({
    layer: o.layer,
    component: o.component,
    operation: o.operation,
    detail:
      o.baselineP95Ms !== null
        ? `p95 ${fmt(o.windowP95Ms)} in the window vs ${fmt(o.baselineP95Ms)} usually (${o.ratio!.toFixed(1)}×, p50 usually ${fmt(o.baselineP50Ms ?? 0)}; ${o.windowCount} calls)`
        : `p95 ${fmt(o.windowP95Ms)} in the window (no baseline yet; ${o.windowCount} calls)`,
    exemplarWorkflowId: o.exemplarWorkflowId,
  }));
}
