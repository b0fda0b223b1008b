import type { Logger } from 'pino';
import {
  escalateAlert, firingAlerts, insertOutbox, lockEvaluation, openAlert, resolveAlert,
  resolveAlertsOfOtherRules, setAlertNotification, touchAlert, type Database, type FiringAlert, type Queryable,
} from '@flowscope/storage';
import type { AlertingConfig } from './config.ts';
import { loadRules, type AlertRule } from './rules.ts';
import { alertCauses } from './causes.ts';
import { renderAlertEmail, type NotificationKind } from './render.ts';
import { decide, type Decision, type Severity } from './state.ts';
import { computeValues, scopeFromKey, type ScopeValue } from './values.ts';

export interface RuleDecision {
  rule: string;
  ruleId: number;
  scopeKey: string;
  value: number | null;
  action: Decision['action'];
  reason: string;
  alertId?: number;
}

export interface EvaluationResult {
  nowMs: number;
  /** Names of the rules evaluated on this tick (due ones). */
  rules: string[];
  decisions: RuleDecision[];
  /** email_outbox rows created on this tick that wait for delivery. */
  outboxIds: number[];
  /** Rules skipped because their metric or thresholds are unusable. */
  invalid: string[];
}

export interface EvaluateDeps {
  db: Database;
  config: AlertingConfig;
  logger: Logger;
  /** SMTP configured: new emails are 'pending' (to be delivered); otherwise 'unsent'. */
  smtpConfigured: boolean;
}

/**
 * A rule is due on the tick that crosses a multiple of its eval interval in (now - sinceMs,
 * now]. Stateless, so it holds whichever worker runs the tick (sinceMs = the tick); a worker
 * that knows when it last evaluated (the in-process scheduler, where ticks can run late) passes
 * the time since, so no multiple falls between two evaluations. Rules with an interval at or
 * below the tick run on every tick.
 */
export function isDue(rule: Pick<AlertRule, 'evalIntervalSeconds'>, nowMs: number, tickMs: number, sinceMs = tickMs): boolean {
  const interval = rule.evalIntervalSeconds * 1000;
  if (interval <= tickMs) return true;
  return Math.floor(nowMs / interval) !== Math.floor((nowMs - sinceMs) / interval);
}

type FiringRow = FiringAlert;

/**
 * One evaluation tick: every due rule's value per scope, the state machine per rule and scope,
 * and the alerts and outbox rows it implies, written in one transaction under an advisory lock
 * (so concurrent ticks on several workers serialise and never open the same alert twice).
 * Delivery is the caller's next step, after commit, with the returned outbox ids.
 */
export async function evaluateRules(deps: EvaluateDeps, nowMs: number, tickMs: number, sinceMs = tickMs): Promise<EvaluationResult> {
  const { db, config, logger } = deps;
  const { rules, invalid } = await loadRules(db);
  const due = rules.filter((r) => isDue(r, nowMs, tickMs, sinceMs));
  const values = new Map<number, Map<string, ScopeValue>>();
  for (const rule of due) values.set(rule.id, await computeValues(db, rule, nowMs, config.FLOWSCOPE_ALERT_MIN_SAMPLES));

  const result: EvaluationResult = { nowMs, rules: due.map((r) => r.name), decisions: [], outboxIds: [], invalid };
  await db.transaction(async (tx) => {
    await lockEvaluation(tx);
    // Alerts of rules that were disabled or deleted stop firing, without an email.
    await resolveAlertsOfOtherRules(tx, rules.map((r) => r.id), new Date(nowMs).toISOString());
    if (due.length === 0) return;
    const firing = await firingAlerts(tx, due.map((r) => r.id));
    for (const rule of due) {
      const byScope = values.get(rule.id)!;
      const open = new Map(firing.filter((f) => Number(f.rule_id) === rule.id).map((f) => [f.scope_key, f]));
      const keys = new Set([...byScope.keys(), ...open.keys()]);
      for (const key of [...keys].sort()) {
        const measured = byScope.get(key);
        const current = open.get(key);
        const value = measured?.value ?? null;
        const decision = decide({
          value,
          thresholds: { warning: rule.warning, critical: rule.critical },
          current: current
            ? { severity: current.severity, lastNotifiedAtMs: current.last_notified_ms }
            : null,
          nowMs,
          hysteresis: config.FLOWSCOPE_ALERT_HYSTERESIS,
          reminderMs: config.FLOWSCOPE_ALERT_REMINDER_MINUTES * 60_000,
        });
        const scope = measured?.scope ?? scopeFromKey(rule, key);
        const alertId = await apply(tx, deps, result, { rule, key, scope, value, count: measured?.count ?? 0, decision, current, nowMs });
        result.decisions.push({ rule: rule.name, ruleId: rule.id, scopeKey: key, value, action: decision.action, reason: decision.reason, ...(alertId !== undefined ? { alertId } : {}) });
        if (decision.action !== 'none' && decision.action !== 'hold') {
          logger.info({ rule: rule.name, scope: key, value, action: decision.action, reason: decision.reason, alertId }, 'alert state change');
        }
      }
    }
  });
  return result;
}

async function apply(
  tx: Queryable,
  deps: EvaluateDeps,
  result: EvaluationResult,
  c: {
    rule: AlertRule;
    key: string;
    scope: ScopeValue['scope'];
    value: number | null;
    count: number;
    decision: Decision;
    current: FiringRow | undefined;
    nowMs: number;
  },
): Promise<number | undefined> {
  const now = new Date(c.nowMs).toISOString();
  const d = c.decision;
  const thresholdOf = (s: Severity) => (s === 'critical' ? c.rule.critical : c.rule.warning) ?? 0;
  switch (d.action) {
    case 'none':
      return undefined;
    case 'fire': {
      const threshold = thresholdOf(d.severity);
      const alertId = await openAlert(tx, { ruleId: c.rule.id, scopeKey: c.key, severity: d.severity, value: c.value, threshold, nowIso: now });
      await notify(tx, deps, result, c, { kind: 'firing', alertId, severity: d.severity, threshold, firstSeenMs: c.nowMs, key: `alert:${alertId}:firing` });
      return alertId;
    }
    case 'escalate': {
      const alertId = c.current!.id;
      const threshold = thresholdOf('critical');
      await escalateAlert(tx, alertId, { threshold, value: c.value, nowIso: now });
      await notify(tx, deps, result, c, { kind: 'escalated', alertId, severity: 'critical', threshold, firstSeenMs: c.current!.first_seen_ms, key: `alert:${alertId}:escalated` });
      return alertId;
    }
    case 'remind': {
      const alertId = c.current!.id;
      await touchAlert(tx, alertId, { value: c.value, nowIso: now, notify: true });
      await notify(tx, deps, result, c, {
        kind: 'reminder',
        alertId,
        severity: c.current!.severity,
        threshold: c.current!.threshold,
        firstSeenMs: c.current!.first_seen_ms,
        key: `alert:${alertId}:reminder:${c.nowMs}`,
      });
      return alertId;
    }
    case 'hold': {
      const alertId = c.current!.id;
      await touchAlert(tx, alertId, { value: c.value, nowIso: now, notify: false });
      return alertId;
    }
    case 'resolve': {
      const alertId = c.current!.id;
      await resolveAlert(tx, alertId, { value: c.value, nowIso: now });
      await notify(tx, deps, result, c, {
        kind: 'resolved',
        alertId,
        severity: c.current!.severity,
        threshold: c.current!.threshold,
        firstSeenMs: c.current!.first_seen_ms,
        key: `alert:${alertId}:resolved`,
      });
      return alertId;
    }
  }
}

/** Renders the notification and writes it to email_outbox (idempotent per key). */
async function notify(
  tx: Queryable,
  deps: EvaluateDeps,
  result: EvaluationResult,
  c: { rule: AlertRule; scope: ScopeValue['scope']; value: number | null; count: number; nowMs: number },
  n: { kind: NotificationKind; alertId: number; severity: Severity; threshold: number; firstSeenMs: number; key: string },
): Promise<void> {
  const recipients = c.rule.recipients.length > 0 ? c.rule.recipients : deps.config.FLOWSCOPE_ALERT_EMAIL_TO;
  const causes =
    n.kind === 'resolved' || deps.config.FLOWSCOPE_ALERT_CAUSES_MAX === 0
      ? []
      : await alertCauses(tx, c.rule, c.scope, c.nowMs, {
          baselineHours: deps.config.FLOWSCOPE_BASELINE_WINDOW_HOURS,
          limit: deps.config.FLOWSCOPE_ALERT_CAUSES_MAX,
        });
  const email = renderAlertEmail({
    kind: n.kind,
    rule: c.rule,
    scope: c.scope,
    alertId: n.alertId,
    severity: n.severity,
    value: c.value,
    threshold: n.threshold,
    count: c.count,
    firstSeenMs: n.firstSeenMs,
    nowMs: c.nowMs,
    publicUrl: deps.config.FLOWSCOPE_PUBLIC_URL,
    causes,
  });
  const problem = !deps.smtpConfigured ? 'SMTP is not configured (EMAIL_HOST unset)' : recipients.length === 0 ? 'no recipients (FLOWSCOPE_ALERT_EMAIL_TO unset and none on the rule)' : null;
  const outboxId = await insertOutbox(tx, {
    alertId: n.alertId,
    key: n.key,
    recipients,
    subject: email.subject,
    text: email.text,
    html: email.html,
    status: problem ? 'unsent' : 'pending',
    lastError: problem,
  });
  if (problem) {
    await setAlertNotification(tx, n.alertId, 'unsent');
    deps.logger.warn({ alertId: n.alertId, kind: n.kind, subject: email.subject, problem }, 'alert email kept in the outbox as unsent');
    return;
  }
  if (outboxId !== undefined) result.outboxIds.push(outboxId);
}

/** Outbox rows waiting for delivery whose job may have been lost (a crash between commit and enqueue, a stalled last attempt). */
export { pendingOutbox } from '@flowscope/storage';
