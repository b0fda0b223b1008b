import type { FastifyInstance } from 'fastify';
import { errors } from '@flowscope/common';
import {
  ALERT_METRIC_PATTERN, alertScope, createRule, findAlertCauses, getAlert, getRule, isUniqueViolation, listAlerts, listOutbox, listRules, updateRule,
  type AlertRuleFields, type Database,
} from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import {
  badRequest, bool, commonResponses, dateTime, int, nnum, notFound, nstr, num, obj, pageQuery, pageResponse, parseRange, str, type Page,
} from '../http.ts';

const ruleSchema = obj({
  id: int, name: str, description: str, metric: str, workflow_type: nstr, layer: nstr, component: nstr,
  warning_threshold: nnum, critical_threshold: nnum, window_seconds: int, eval_interval_seconds: int,
  recipients: { type: 'array', items: str }, enabled: bool, source: str, created_at: str, updated_at: str,
});

const nullableText = (max = 256) => ({ type: ['string', 'null'], minLength: 1, maxLength: max }) as const;
const threshold = { type: ['number', 'null'], minimum: -1e15, maximum: 1e15 } as const;

/** Writable fields of a rule; the same schema validates create (with `required`) and update. */
const ruleBody = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  description: { type: 'string', maxLength: 2000 },
  // `<snapshot metric>:<statistic>`, the format the alerting worker evaluates.
  metric: { type: 'string', pattern: ALERT_METRIC_PATTERN },
  workflow_type: nullableText(),
  layer: nullableText(64),
  component: nullableText(),
  warning_threshold: threshold,
  critical_threshold: threshold,
  window_seconds: { type: 'integer', minimum: 10, maximum: 7 * 86400 },
  eval_interval_seconds: { type: 'integer', minimum: 5, maximum: 86400 },
  recipients: { type: 'array', maxItems: 100, items: { type: 'string', format: 'email', maxLength: 320 } },
  enabled: { type: 'boolean' },
} as const;

type RuleBody = Partial<AlertRuleFields>;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, maximum: 2147483647 } },
} as const;

function checkThresholds(b: RuleBody) {
  if (b.warning_threshold == null && b.critical_threshold == null) {
    throw badRequest('a rule needs a warning_threshold, a critical_threshold or both');
  }
}

const conflict = () => errors.conflict('an alert rule with this name exists');

type Deps = { db: Database; config: QueryApiConfig };

export function alertRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig): void {
  const deps: Deps = { db, config };
  listRulesRoute(app, deps);
  getRuleRoute(app, deps);
  createRuleRoute(app, deps);
  updateRuleRoute(app, deps);
  for (const [action, enabled] of [['disable', false], ['enable', true]] as const) enableRuleRoute(app, deps, action, enabled);
  listAlertsRoute(app, deps);
  getAlertRoute(app, deps);
  listOutboxRoute(app, deps);
}

function listRulesRoute(app: FastifyInstance, { db, config }: Deps): void {
  app.get<{ Querystring: Page & { enabled?: boolean } }>(
    '/alert-rules',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alert rules',
        querystring: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' }, ...pageQuery(config) } },
        response: { 200: pageResponse(ruleSchema), ...commonResponses },
      },
    },
    async (req) => {
      const page = await listRules(db, { enabled: req.query.enabled }, req.query);
      return { ...page, limit: req.query.limit, offset: req.query.offset };
    },
  );
}

function getRuleRoute(app: FastifyInstance, { db }: Deps): void {
  app.get<{ Params: { id: number } }>(
    '/alert-rules/:id',
    { schema: { tags: ['alerts'], summary: 'One alert rule', params: idParams, response: { 200: ruleSchema, ...commonResponses } } },
    async (req) => {
      const row = await getRule(db, req.params.id);
      if (!row) throw notFound('alert rule');
      return row;
    },
  );
}

function createRuleRoute(app: FastifyInstance, { db }: Deps): void {
  app.post<{ Body: RuleBody }>(
    '/alert-rules',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['alerts'],
        summary: 'Create an alert rule (admin)',
        body: { type: 'object', additionalProperties: false, required: ['name', 'metric'], properties: ruleBody },
        response: { 201: ruleSchema, 409: commonResponses[400], ...commonResponses },
      },
    },
    async (req, reply) => {
      const b = req.body as RuleBody & Pick<AlertRuleFields, 'name' | 'metric'>;
      checkThresholds(b);
      try {
        const row = await createRule(db, b);
        req.log.info({ rule: b.name, by: req.principal?.name }, 'alert rule created');
        return reply.code(201).send(row);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict();
        throw err;
      }
    },
  );
}

/** Applies a partial update in a transaction; a rule left without any threshold is rolled back. */
async function update(db: Database, id: number, b: RuleBody) {
  if (!Object.values(b).some((v) => v !== undefined)) throw badRequest('nothing to update');
  return db.transaction(async (tx) => {
    const row = await updateRule(tx, id, b);
    if (!row) throw notFound('alert rule');
    checkThresholds(row); // throwing rolls the update back
    return row;
  });
}

function updateRuleRoute(app: FastifyInstance, { db }: Deps): void {
  app.patch<{ Params: { id: number }; Body: RuleBody }>(
    '/alert-rules/:id',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['alerts'],
        summary: 'Update an alert rule (admin); `enabled: false` disables it',
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: ruleBody },
        response: { 200: ruleSchema, 409: commonResponses[400], ...commonResponses },
      },
    },
    async (req) => {
      try {
        return await update(db, req.params.id, req.body);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict();
        throw err;
      }
    },
  );
}

function enableRuleRoute(app: FastifyInstance, { db }: Deps, action: 'disable' | 'enable', enabled: boolean): void {
  app.post<{ Params: { id: number } }>(
    `/alert-rules/:id/${action}`,
    {
      config: { role: 'admin' },
      schema: { tags: ['alerts'], summary: `${action === 'disable' ? 'Disable' : 'Enable'} an alert rule (admin)`, params: idParams, response: { 200: ruleSchema, ...commonResponses } },
    },
    async (req) => update(db, req.params.id, { enabled }),
  );
}

interface AlertQuery extends Page {
  state?: 'firing' | 'resolved';
  severity?: 'warning' | 'critical';
  rule_id?: number;
  from?: string;
  to?: string;
}

function listAlertsRoute(app: FastifyInstance, { db, config }: Deps): void {
  app.get<{ Querystring: AlertQuery }>(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alert state changes, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['firing', 'resolved'] },
            severity: { type: 'string', enum: ['warning', 'critical'] },
            rule_id: { type: 'integer', minimum: 1, maximum: 2147483647 },
            from: dateTime,
            to: dateTime,
            ...pageQuery(config),
          },
        },
        response: {
          200: pageResponse(obj({ id: num, rule_id: int, rule_name: str, metric: str, workflow_type: nstr, layer: nstr, component: nstr, scope_key: str, severity: str, state: str, value: num, threshold: num, first_seen: str, last_seen: str, resolved_at: nstr, notification_status: str, last_notified_at: nstr, window_seconds: int })),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const { fromMs, toMs } = parseRange(q);
      const page = await listAlerts(db, { state: q.state, severity: q.severity, ruleId: q.rule_id, fromMs, toMs }, q);
      return { ...page, limit: q.limit, offset: q.offset };
    },
  );
}

const causeSchema = obj({
  kind: { type: 'string', enum: ['slow', 'error'] }, workflow_type: str, layer: str, component: str, operation: str,
  window_count: nnum, window_p95_ms: nnum, baseline_p50_ms: nnum, baseline_p95_ms: nnum, ratio: nnum,
  count: nnum, error_type: nstr, message: nstr, exemplar_workflow_id: nstr,
});
const alertSchema = obj({ id: num, rule_id: int, rule_name: str, metric: str, workflow_type: nstr, layer: nstr, component: nstr, scope_key: str, severity: str, state: str, value: num, threshold: num, first_seen: str, last_seen: str, resolved_at: nstr, notification_status: str, last_notified_at: nstr, causes: { type: 'array', items: causeSchema } });

// The page alert emails link to. `causes`: what the alert points at over the rule's window up
// to the alert's last firing evaluation (storage's findAlertCauses, as in the email).
function getAlertRoute(app: FastifyInstance, { db, config }: Deps): void {
  app.get<{ Params: { id: number } }>(
    '/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its rule, scope and causes (slow operations or error origins, each with an example workflow)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } },
        response: { 200: alertSchema, ...commonResponses },
      },
    },
    async (req) => {
      const alert = await getAlert(db, req.params.id);
      if (!alert) throw notFound('alert');
      const scope = alertScope(alert, alert.scope_key);
      const toMs = Date.parse(alert.last_seen);
      const causes = await findAlertCauses(db, {
        errorRate: alert.metric.endsWith(':error_pct'),
        fromMs: toMs - alert.window_seconds * 1000,
        toMs,
        baselineHours: config.FLOWSCOPE_BASELINE_WINDOW_HOURS,
        workflowType: scope.workflow_type,
        layer: scope.layer,
        component: scope.component,
        limit: config.FLOWSCOPE_ALERT_CAUSES_MAX,
      });
      return {
        ...alert,
        causes: causes.map((c) => ({
          kind: c.kind, workflow_type: c.workflowType, layer: c.layer, component: c.component, operation: c.operation,
          ...(c.kind === 'slow'
            ? { window_count: c.windowCount, window_p95_ms: c.windowP95Ms, baseline_p50_ms: c.baselineP50Ms, baseline_p95_ms: c.baselineP95Ms, ratio: c.ratio, count: null, error_type: null, message: null }
            : { window_count: null, window_p95_ms: null, baseline_p50_ms: null, baseline_p95_ms: null, ratio: null, count: c.count, error_type: c.errorType, message: c.message }),
          exemplar_workflow_id: c.exemplarWorkflowId,
        })),
      };
    },
  );
}

function listOutboxRoute(app: FastifyInstance, { db, config }: Deps): void {
  app.get<{ Querystring: Page & { status?: string; alert_id?: number } }>(
    '/email-outbox',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alert emails: sent, pending, failed, or kept unsent when no SMTP server is configured',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['pending', 'sending', 'sent', 'failed', 'unsent'] },
            alert_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
            ...pageQuery(config),
          },
        },
        response: {
          200: pageResponse(obj({ id: num, alert_id: nnum, recipients: { type: 'array', items: str }, subject: str, body_text: str, status: str, attempts: int, last_error: nstr, created_at: str, sent_at: nstr })),
          ...commonResponses,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await listOutbox(db, { status: q.status, alertId: q.alert_id }, q);
      return { ...page, limit: q.limit, offset: q.offset };
    },
  );
}
