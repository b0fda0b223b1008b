/**
 * The alert state machine of one rule and scope, as a pure function so that it is tested on
 * named cases with an injected clock.
 *
 *   ok ──value ≥ warning──▶ firing(warning) ──value ≥ critical──▶ firing(critical)
 *   ok ──value ≥ critical─▶ firing(critical)
 *   firing(any) ──value < lowest threshold × (1 − hysteresis), or no data──▶ resolved (= ok)
 *
 * - Escalation warning → critical notifies; severity never steps down while firing (an alert
 *   that reached critical stays critical until it resolves), so a value hovering around the
 *   critical threshold does not flap either.
 * - Hysteresis: firing needs value ≥ threshold, resolving needs value below the threshold
 *   lowered by the hysteresis fraction.
 * - While an alert keeps firing it is not notified again, except a reminder once
 *   `reminderMs` has passed since its last notification (0 disables reminders).
 * Every decision carries a reason, used as a metric label and a log field.
 */
export type Severity = 'warning' | 'critical';

export interface Thresholds {
  warning: number | null;
  critical: number | null;
}

export interface FiringState {
  severity: Severity;
  lastNotifiedAtMs: number | null;
}

export type Decision =
  | { action: 'none'; reason: 'below_threshold' | 'no_data' }
  | { action: 'fire'; severity: Severity; reason: 'above_warning' | 'above_critical' }
  | { action: 'escalate'; severity: 'critical'; reason: 'above_critical' }
  | { action: 'remind'; reason: 'reminder_due' }
  | { action: 'hold'; reason: 'still_firing' | 'within_hysteresis' }
  | { action: 'resolve'; reason: 'below_resolve_threshold' | 'no_data' };

export function levelOf(value: number, t: Thresholds): Severity | null {
  if (t.critical !== null && value >= t.critical) return 'critical';
  if (t.warning !== null && value >= t.warning) return 'warning';
  return null;
}

/** The value below which a firing alert resolves. */
export function resolveBelow(t: Thresholds, hysteresis: number): number {
  const lowest = t.warning ?? t.critical ?? 0;
  return lowest * (1 - hysteresis);
}

export function decide(input: {
  value: number | null;
  thresholds: Thresholds;
  current: FiringState | null;
  nowMs: number;
  hysteresis: number;
  reminderMs: number;
}): Decision {
  const { value, thresholds, current, nowMs, hysteresis, reminderMs } = input;
  if (current === null) {
    if (value === null) return { action: 'none', reason: 'no_data' };
    const level = levelOf(value, thresholds);
    if (level === null) return { action: 'none', reason: 'below_threshold' };
    return { action: 'fire', severity: level, reason: level === 'critical' ? 'above_critical' : 'above_warning' };
  }
  if (value === null) return { action: 'resolve', reason: 'no_data' };
  if (value < resolveBelow(thresholds, hysteresis)) return { action: 'resolve', reason: 'below_resolve_threshold' };
  if (current.severity === 'warning' && levelOf(value, thresholds) === 'critical') {
    return { action: 'escalate', severity: 'critical', reason: 'above_critical' };
  }
  if (reminderMs > 0 && current.lastNotifiedAtMs !== null && nowMs - current.lastNotifiedAtMs >= reminderMs) {
    return { action: 'remind', reason: 'reminder_due' };
  }
  return { action: 'hold', reason: levelOf(value, thresholds) === null ? 'within_hysteresis' : 'still_firing' };
}
