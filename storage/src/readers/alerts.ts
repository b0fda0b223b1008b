import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { alertRules, alerts, type AlertRecord, type AlertRuleRecord } from '../schema.ts';
import { atOrAfterIf, beforeIf, eqIf, isoOf, pageOfRows, run, snakeColumns, type Page, type Paged, type Queryable, type SnakeRow } from '../sql.ts';

/**
 * Alert rules and alerts (alert_rules, alerts): what the API edits and lists, and what the
 * alerting worker reads and writes on each evaluation. Contract:
 * - `AlertRuleRow` is the one shape of an alert_rules row (thresholds as numbers or null,
 *   times ISO-8601 UTC with microseconds); `AlertRuleFields` its writable part; `AlertRow` an
 *   alert with its rule's name, metric, scope fields and window (ids and values as numbers);
 * - every reader is written with drizzle; raw SQL is left for `seedRules` (one upsert of a JSON
 *   recordset that updates only config rules whose thresholds changed) and the evaluation writes;
 * - a rule name is unique: creating or renaming onto an existing name throws the driver's
 *   unique violation (SQLSTATE 23505, see `isUniqueViolation`);
 * - alert lists are newest first (created_at DESC, id DESC); `from` matches alerts still seen
 *   at or after it (last_seen), `to` alerts first seen before it;
 * - evaluation writes (`openAlert` … `resolveAlert`) are meant to run inside the evaluation
 *   transaction, after `lockEvaluation`.
 */

export type AlertSeverity = AlertRecord['severity'];
export type AlertState = AlertRecord['state'];

/** The writable fields of an alert rule. */
export type AlertRuleFields = SnakeRow<
  Pick<
    AlertRuleRecord,
    | 'name' | 'description' | 'metric' | 'workflowType' | 'layer' | 'component' | 'warningThreshold' | 'criticalThreshold'
    | 'windowSeconds' | 'evalIntervalSeconds' | 'recipients' | 'enabled'
  >
>;

/**
 * One alert_rules row as every reader returns it. `source`: 'config' (thresholds from the
 * environment), 'defaults' (seed file) or 'api'.
 */
export type AlertRuleRow = SnakeRow<AlertRuleRecord>;

export const ALERT_RULE_FIELDS = [
  'name', 'description', 'metric', 'workflow_type', 'layer', 'component', 'warning_threshold', 'critical_threshold',
  'window_seconds', 'eval_interval_seconds', 'recipients', 'enabled',
] as const satisfies readonly (keyof AlertRuleFields)[];

const RULE_COLUMNS = snakeColumns(alertRules);

/** True for the driver error of a unique constraint (e.g. a second rule with the same name). */
export const isUniqueViolation = (err: unknown) => (err as { code?: string } | null)?.code === '23505';

/** The given fields as drizzle values (undefined ones are left out: the table's defaults, or unchanged). */
const ruleValues = (b: Partial<AlertRuleFields>) => ({
  name: b.name,
  description: b.description,
  metric: b.metric,
  workflowType: b.workflow_type,
  layer: b.layer,
  component: b.component,
  warningThreshold: b.warning_threshold,
  criticalThreshold: b.critical_threshold,
  windowSeconds: b.window_seconds,
  evalIntervalSeconds: b.eval_interval_seconds,
  recipients: b.recipients,
  enabled: b.enabled,
});

export function listRules(db: Queryable, f: { enabled?: boolean | undefined }, page: Page): Promise<Paged<AlertRuleRow>> {
  const where = eqIf(alertRules.enabled, f.enabled);
  return pageOfRows(db, alertRules, where, db.drizzle.select(RULE_COLUMNS).from(alertRules).where(where).orderBy(asc(alertRules.id)), page);
}

/** Every enabled rule, by id (what the worker evaluates). */
export function enabledRules(db: Queryable): Promise<AlertRuleRow[]> {
  return run(db.drizzle.select(RULE_COLUMNS).from(alertRules).where(eq(alertRules.enabled, true)).orderBy(asc(alertRules.id)));
}

export async function getRule(db: Queryable, id: number): Promise<AlertRuleRow | undefined> {
  const [row] = await run(db.drizzle.select(RULE_COLUMNS).from(alertRules).where(eq(alertRules.id, id)));
  return row;
}

/** Creates a rule from the given fields (the others take the table's defaults), source 'api'. */
export async function createRule(db: Queryable, b: Partial<AlertRuleFields> & Pick<AlertRuleFields, 'name' | 'metric'>): Promise<AlertRuleRow> {
  const [row] = await run(db.drizzle.insert(alertRules).values({ ...ruleValues(b), name: b.name, metric: b.metric, source: 'api' }).returning(RULE_COLUMNS));
  return row!;
}

/** Changes the given fields (at least one) and updated_at; undefined when there is no such rule. */
export async function updateRule(db: Queryable, id: number, b: Partial<AlertRuleFields>): Promise<AlertRuleRow | undefined> {
  if (ALERT_RULE_FIELDS.every((f) => b[f] === undefined)) throw new Error('updateRule: nothing to update');
  const [row] = await run(
    db.drizzle
      .update(alertRules)
      .set({ ...ruleValues(b), updatedAt: sql`now()` })
      .where(eq(alertRules.id, id))
      .returning(RULE_COLUMNS),
  );
  return row;
}

/**
 * Seeds rules by name. Rules with source 'config' get their thresholds updated when they
 * changed; every other existing rule is left as it is. Safe under concurrent starts.
 */
export async function seedRules(db: Queryable, rules: readonly (AlertRuleFields & { source: string })[]): Promise<void> {
  await db.query(
    `INSERT INTO alert_rules (name, description, metric, workflow_type, layer, component, warning_threshold,
            critical_threshold, window_seconds, eval_interval_seconds, recipients, enabled, source)
     SELECT r.name, r.description, r.metric, r.workflow_type, r.layer, r.component, r.warning_threshold,
            r.critical_threshold, r.window_seconds, r.eval_interval_seconds,
            ARRAY(SELECT jsonb_array_elements_text(r.recipients)), r.enabled, r.source
       FROM jsonb_to_recordset($1::jsonb) AS r(name text, description text, metric text, workflow_type text, layer text,
            component text, warning_threshold double precision, critical_threshold double precision,
            window_seconds integer, eval_interval_seconds integer, recipients jsonb, enabled boolean, source text)
     ON CONFLICT (name) DO UPDATE SET
       warning_threshold = EXCLUDED.warning_threshold,
       critical_threshold = EXCLUDED.critical_threshold,
       updated_at = now()
     WHERE alert_rules.source = 'config' AND EXCLUDED.source = 'config'
       AND (alert_rules.warning_threshold IS DISTINCT FROM EXCLUDED.warning_threshold
            OR alert_rules.critical_threshold IS DISTINCT FROM EXCLUDED.critical_threshold)`,
    [JSON.stringify(rules)],
  );
}

/** One alert with its rule's name, metric, scope fields and window. */
export type AlertRow = SnakeRow<
  Pick<
    AlertRecord,
    'id' | 'ruleId' | 'scopeKey' | 'severity' | 'state' | 'value' | 'threshold' | 'firstSeen' | 'lastSeen' | 'resolvedAt' | 'notificationStatus' | 'lastNotifiedAt'
  >
> &
  SnakeRow<Pick<AlertRuleRecord, 'metric' | 'workflowType' | 'layer' | 'component' | 'windowSeconds'>> & {
    rule_name: AlertRuleRecord['name'];
  };

/**
 * The scope one alert is about: the rule's workflow type, layer and component, its `*` fields
 * (one alert per value) filled from the alert's scope key (`workflow_type=checkout,…`).
 */
export function alertScope(
  rule: { workflow_type: string | null; layer: string | null; component: string | null },
  scopeKey: string,
): { workflow_type: string | null; layer: string | null; component: string | null } {
  const parsed = new Map<string, string>();
  for (const part of scopeKey === '' ? [] : scopeKey.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parsed.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const field = (f: 'workflow_type' | 'layer' | 'component') => (rule[f] === '*' ? (parsed.get(f) ?? null) : rule[f]);
  return { workflow_type: field('workflow_type'), layer: field('layer'), component: field('component') };
}

/** The selection of AlertRow, in the order the API answers with. */
const ALERT_COLUMNS = {
  id: alerts.id,
  rule_id: alerts.ruleId,
  rule_name: alertRules.name,
  metric: alertRules.metric,
  workflow_type: alertRules.workflowType,
  layer: alertRules.layer,
  component: alertRules.component,
  window_seconds: alertRules.windowSeconds,
  scope_key: alerts.scopeKey,
  severity: alerts.severity,
  state: alerts.state,
  value: alerts.value,
  threshold: alerts.threshold,
  first_seen: isoOf(alerts.firstSeen),
  last_seen: isoOf(alerts.lastSeen),
  resolved_at: isoOf(alerts.resolvedAt),
  notification_status: alerts.notificationStatus,
  last_notified_at: isoOf(alerts.lastNotifiedAt),
};

/** Alerts joined with their rule, selected as AlertRow. */
const alertsWithRule = (db: Queryable) => db.drizzle.select(ALERT_COLUMNS).from(alerts).innerJoin(alertRules, eq(alertRules.id, alerts.ruleId));

export interface AlertFilter {
  state?: AlertState | undefined;
  severity?: AlertSeverity | undefined;
  ruleId?: number | undefined;
  fromMs?: number | undefined;
  toMs?: number | undefined;
}

export function listAlerts(db: Queryable, f: AlertFilter, page: Page): Promise<Paged<AlertRow>> {
  const where = and(
    eqIf(alerts.state, f.state),
    eqIf(alerts.severity, f.severity),
    eqIf(alerts.ruleId, f.ruleId),
    atOrAfterIf(alerts.lastSeen, f.fromMs),
    beforeIf(alerts.firstSeen, f.toMs),
  );
  return pageOfRows(db, alerts, where, alertsWithRule(db).where(where).orderBy(desc(alerts.createdAt), desc(alerts.id)), page);
}

export async function getAlert(db: Queryable, id: number): Promise<AlertRow | undefined> {
  const [row] = await run(alertsWithRule(db).where(eq(alerts.id, id)));
  return row;
}

/** The alerts with these ids (any order). */
export function getAlerts(db: Queryable, ids: readonly number[]): Promise<AlertRow[]> {
  return run(alertsWithRule(db).where(inArray(alerts.id, [...ids])));
}

/** A firing alert as the evaluation sees it. */
export type FiringAlert = SnakeRow<Pick<AlertRecord, 'id' | 'ruleId' | 'scopeKey' | 'severity' | 'value' | 'threshold'>> & {
  first_seen_ms: number;
  last_notified_ms: number | null;
};

/** Serialises evaluations across workers: holds until the calling transaction ends. */
export async function lockEvaluation(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('flowscope_alert_evaluation'))`);
}

/** Firing alerts of the given rules. */
export function firingAlerts(tx: Queryable, ruleIds: readonly number[]): Promise<FiringAlert[]> {
  return run(
    tx.drizzle
      .select({
        id: alerts.id,
        rule_id: alerts.ruleId,
        scope_key: alerts.scopeKey,
        severity: alerts.severity,
        value: alerts.value,
        threshold: alerts.threshold,
        // ms since the epoch (numeric, which the driver gives as text); drizzle decodes no null
        first_seen_ms: sql`extract(epoch FROM ${alerts.firstSeen}) * 1000`.mapWith(Number),
        last_notified_ms: sql`extract(epoch FROM ${alerts.lastNotifiedAt}) * 1000`.mapWith((v): number | null => Number(v)),
      })
      .from(alerts)
      .where(and(eq(alerts.state, 'firing'), inArray(alerts.ruleId, [...ruleIds]))),
  );
}

/** Resolves (without notification) firing alerts whose rule is not among `ruleIds` (disabled or deleted). */
export async function resolveAlertsOfOtherRules(tx: Queryable, ruleIds: readonly number[], nowIso: string): Promise<void> {
  await tx.query(
    `UPDATE alerts SET state = 'resolved', resolved_at = $1::timestamptz
      WHERE state = 'firing' AND NOT (rule_id = ANY($2::int[]))`,
    [nowIso, ruleIds],
  );
}

/** Opens a firing alert, notification pending; returns its id. */
export async function openAlert(
  tx: Queryable,
  a: { ruleId: number; scopeKey: string; severity: AlertSeverity; value: number | null; threshold: number; nowIso: string },
): Promise<number> {
  const rows = await tx.query<{ id: string | number }>(
    `INSERT INTO alerts (rule_id, scope_key, severity, state, value, threshold, first_seen, last_seen, notification_status, last_notified_at)
     VALUES ($1, $2, $3, 'firing', $4, $5, $6::timestamptz, $6::timestamptz, 'pending', $6::timestamptz) RETURNING id`,
    [a.ruleId, a.scopeKey, a.severity, a.value, a.threshold, a.nowIso],
  );
  return Number(rows[0]!.id);
}

/** Raises a firing alert to critical, notification pending. */
export async function escalateAlert(tx: Queryable, id: number, a: { threshold: number; value: number | null; nowIso: string }): Promise<void> {
  await tx.query(
    `UPDATE alerts SET severity = 'critical', threshold = $2, value = $3, last_seen = $4::timestamptz,
            last_notified_at = $4::timestamptz, notification_status = 'pending' WHERE id = $1`,
    [id, a.threshold, a.value, a.nowIso],
  );
}

/** Records a new value of a firing alert; with `notify`, a reminder is pending. */
export async function touchAlert(tx: Queryable, id: number, a: { value: number | null; nowIso: string; notify: boolean }): Promise<void> {
  if (a.notify) {
    await tx.query(
      `UPDATE alerts SET value = $2, last_seen = $3::timestamptz, last_notified_at = $3::timestamptz, notification_status = 'pending' WHERE id = $1`,
      [id, a.value, a.nowIso],
    );
  } else {
    await tx.query(`UPDATE alerts SET value = $2, last_seen = $3::timestamptz WHERE id = $1`, [id, a.value, a.nowIso]);
  }
}

/** Resolves a firing alert (keeping its last value when `value` is null), notification pending. */
export async function resolveAlert(tx: Queryable, id: number, a: { value: number | null; nowIso: string }): Promise<void> {
  await tx.query(
    `UPDATE alerts SET state = 'resolved', resolved_at = $3::timestamptz, value = coalesce($2, value),
            last_notified_at = $3::timestamptz, notification_status = 'pending' WHERE id = $1`,
    [id, a.value, a.nowIso],
  );
}

/** Sets an alert's notification status (pending, sent, failed, unsent); a null id does nothing. */
export async function setAlertNotification(q: Queryable, alertId: string | number | null, status: string): Promise<void> {
  if (alertId === null) return;
  await q.query('UPDATE alerts SET notification_status = $2 WHERE id = $1', [alertId, status]);
}
