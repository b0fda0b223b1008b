import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT, activeAdminExists, activeWorkflowsByType, bucketIndex, claimOutbox, createRule, emptyBuckets, enabledRules,
  errorsOfWorkflow, escalateAlert, failAbandonedOutbox, findActiveToken, findTraceIds, firingAlerts, getAlert, getAlerts, getError,
  getRule, getWorkflow, getWorkflows, healthCounts, insertOutbox, insertToken, isUniqueViolation, listAlerts, listErrors,
  listOperations, listOutbox, listRules, listServices, listTokens, listWorkflows, lockEvaluation, lockOutboxRow, markOutboxFailed,
  markOutboxSent, openAlert, outboxStatus, pendingOutbox, recordTokenUse, resolveAlert, resolveAlertsOfOtherRules, revokeToken,
  seedRules, serviceDependencies, setAlertNotification, setErrorResolved, snapshotSeries, snapshotsInWindow, spansOf, spansOfTraces,
  tokenHashExists, touchAlert, unresolvedErrorCounts, updateRule, workflowIdsOfTrace, workflowStats, writeSnapshotDeltas, writeSpans,
  lockTokenBootstrap, readSpansForAnalysis, type AlertRuleFields, type Database,
} from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { errorRecord, hex, span } from './fixtures.ts';

// Every reader against both drivers, as the writer's suite does (storage.int.test.ts).
// Row keys in the order the readers answer with (what the API serialises).
const WORKFLOW_KEYS = ['workflow_id', 'workflow_type', 'status', 'user_id', 'first_trace_id', 'started_at', 'ended_at', 'duration_ms', 'span_count', 'error_count', 'stored'];
const SPAN_KEYS = [
  'trace_id', 'span_id', 'parent_span_id', 'workflow_id', 'workflow_type', 'layer', 'component', 'name', 'kind', 'status_code', 'status_message',
  'is_error', 'start_time', 'end_time', 'duration_ms', 'user_id', 'scope_name', 'attributes', 'resource', 'events', 'links', 'start_us', 'end_us',
];
const ERROR_KEYS = [
  'id', 'trace_id', 'span_id', 'seq', 'correlation_id', 'workflow_type', 'layer', 'component', 'span_name', 'severity', 'error_type', 'message',
  'stack', 'occurred_at', 'attributes', 'resolved', 'resolved_by', 'resolved_at',
];
const ALERT_KEYS = [
  'id', 'rule_id', 'rule_name', 'metric', 'workflow_type', 'layer', 'component', 'window_seconds', 'scope_key', 'severity', 'state', 'value',
  'threshold', 'first_seen', 'last_seen', 'resolved_at', 'notification_status', 'last_notified_at',
];
const ISO_US = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 10 * MIN; // ten minutes ago, on a minute
const iso = (ms: number) => new Date(ms).toISOString();
const TRACE1 = hex(1, 32);
const TRACE2 = hex(2, 32);

const rule = (over: Partial<AlertRuleFields> = {}): AlertRuleFields => ({
  name: 'p95', description: '', metric: 'duration_ms:p95', workflow_type: '*', layer: 'api', component: null,
  warning_threshold: 100, critical_threshold: 500, window_seconds: 300, eval_interval_seconds: 15, recipients: [], enabled: true,
  ...over,
});

describe.each<Driver>(['postgres', 'pglite'])('readers on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    await writeSpans(db, {
      spans: [
        span({ traceId: TRACE1, spanId: hex(1, 16), workflowId: 'wf-a', startMs: T0, durationMs: 40, attributes: { 'http.route': '/checkout' } }),
        span({
          traceId: TRACE1, spanId: hex(2, 16), parentSpanId: hex(1, 16), workflowId: 'wf-a', layer: 'database', component: 'orders-db',
          name: 'SELECT orders', kind: 3, isError: true, statusCode: 2, startMs: T0 + 5, durationMs: 20,
        }),
        span({ traceId: TRACE2, spanId: hex(3, 16), parentSpanId: hex(9, 16), workflowId: 'wf-b', workflowType: 'login', component: 'auth', startMs: T0 + MIN, durationMs: 5 }),
      ],
      errors: [errorRecord({ traceId: TRACE1, spanId: hex(2, 16), correlationId: 'wf-a', layer: 'database', component: 'orders-db', occurredUnixNano: BigInt(T0 + 5) * 1_000_000n })],
    });
    const buckets = emptyBuckets();
    buckets[bucketIndex(40)] = 3;
    await db.transaction((tx) =>
      writeSnapshotDeltas(tx, [
        { bucketStartMs: T0, workflowType: 'checkout', layer: 'api', component: 'api-gateway', metric: 'duration_ms', count: 3, errorCount: 1, sum: 120, min: 40, max: 40, buckets },
        { bucketStartMs: T0 + MIN, workflowType: 'login', layer: 'api', component: 'auth', metric: 'duration_ms', count: 3, errorCount: 0, sum: 120, min: 40, max: 40, buckets },
      ]),
    );
  });
  afterAll(async () => {
    await dispose();
  });

  it('workflows: list with filters and total, one, several, active by type', async () => {
    const all = await listWorkflows(db, {}, { limit: 10, offset: 0 });
    expect(all.total).toBe(2);
    expect(all.data.map((w) => w.workflow_id)).toEqual(['wf-b', 'wf-a']); // newest first
    const failed = await listWorkflows(db, { hasErrors: true, fromMs: T0, toMs: T0 + MIN }, { limit: 10, offset: 0 });
    expect(failed.data.map((w) => [w.workflow_id, w.status, w.error_count, w.stored])).toEqual([['wf-a', 'failed', 1, true]]);
    expect((await listWorkflows(db, { workflowType: 'login' }, { limit: 1, offset: 1 })).data).toEqual([]);
    const one = await getWorkflow(db, 'wf-a');
    expect(one?.started_at).toBe(iso(T0).replace('Z', '000Z'));
    expect(await getWorkflow(db, 'nope')).toBeUndefined();
    expect((await getWorkflows(db, ['wf-b', 'nope'])).map((w) => w.workflow_type)).toEqual(['login']);
    expect(await activeWorkflowsByType(db)).toEqual([{ workflow_type: 'login', n: 1 }]);
    expect(Object.keys(one!)).toEqual(WORKFLOW_KEYS);
    expect(Object.keys(all.data[0]!)).toEqual(WORKFLOW_KEYS);
    expect([one?.ended_at, one?.duration_ms, one?.span_count]).toEqual([expect.stringMatching(ISO_US), 40, 2]);
  });

  it('workflow stats: by status and per type over a range', async () => {
    const stats = await workflowStats(db, { from: new Date(T0), to: new Date(T0 + 2 * MIN) });
    expect(stats.by_status).toEqual({ failed: 1, in_progress: 1 });
    expect(stats.by_type.map((t) => [t.workflow_type, t.count, t.failed, t.timed_out, t.error_rate, t.p95_ms])).toEqual([
      ['checkout', 1, 1, 0, 1, 40],
      ['login', 1, 0, 0, 0, expect.any(Number)],
    ]);
    expect(stats.by_type[0]!.per_minute).toBe(0.5);
    const one = await workflowStats(db, { from: new Date(T0), to: new Date(T0 + 2 * MIN), workflowType: 'login' }, 1);
    expect([one.by_status, one.by_type.map((t) => t.workflow_type), one.types_truncated]).toEqual([{ in_progress: 1 }, ['login'], false]);
    expect((await workflowStats(db, { from: new Date(T0), to: new Date(T0 + 2 * MIN) }, 1)).types_truncated).toBe(true);
    expect((await workflowStats(db, { from: new Date(T0 + 2 * MIN), to: new Date(T0 + 3 * MIN) })).by_type).toEqual([]);
  });

  it('traces: spans of a workflow or trace (bounded), of several traces, workflow ids of a trace', async () => {
    const wf = await spansOf(db, { workflowId: 'wf-a' }, 10);
    expect(wf.truncated).toBe(false);
    expect(wf.spans.map((s) => [s.span_id, s.parent_span_id, s.kind, s.is_error])).toEqual([
      [hex(1, 16), null, 2, false],
      [hex(2, 16), hex(1, 16), 3, true],
    ]);
    expect(wf.spans[0]!.start_us).toBe(T0 * 1000);
    expect(wf.spans[0]!.end_us - wf.spans[0]!.start_us).toBe(40_000);
    expect(wf.spans[0]!.attributes).toEqual({ 'http.route': '/checkout' });
    const cut = await spansOf(db, { traceId: TRACE1 }, 1);
    expect([cut.spans.length, cut.truncated]).toEqual([1, true]);
    const both = await spansOfTraces(db, [TRACE2, TRACE1], 10);
    expect(both.spans.map((s) => s.trace_id)).toEqual([TRACE1, TRACE1, TRACE2]);
    expect(await workflowIdsOfTrace(db, TRACE1)).toEqual(['wf-a']);
    expect(Object.keys(wf.spans[0]!)).toEqual(SPAN_KEYS);
    expect([wf.spans[0]!.start_time, wf.spans[0]!.events, wf.spans[0]!.links]).toEqual([expect.stringMatching(ISO_US), [], []]);
  });

  it('traces by id are prepared statements (PostgreSQL) that still see a partition created after they were planned', async () => {
    const trace3 = hex(3, 32);
    await db
      .transaction(async (tx) => {
        // More than five runs: PostgreSQL then uses the statement's generic plan.
        for (let i = 0; i < 7; i++) expect((await spansOf(tx, { traceId: TRACE1 }, 10)).spans.map((s) => s.span_id)).toEqual([hex(1, 16), hex(2, 16)]);
        expect((await spansOfTraces(tx, [TRACE2], 10)).spans.map((s) => s.span_id)).toEqual([hex(3, 16)]);
        if (driver === 'postgres') {
          // This connection's statements (earlier tests may have run them on it too).
          const prepared = await tx.query<{ statement: string; runs: number }>(
            `SELECT statement, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE statement LIKE 'SELECT trace_id, span_id,%'`,
          );
          const runs = (many: boolean) =>
            prepared.filter((p) => p.statement.includes(many ? 'WHERE trace_id = ANY($1::text[])' : 'WHERE trace_id = $1')).map((p) => p.runs);
          expect([runs(false).length, runs(true).length]).toEqual([1, 1]);
          expect(runs(false)[0]).toBeGreaterThanOrEqual(7);
          expect(runs(true)[0]).toBeGreaterThanOrEqual(1);
        }
        await tx.query(`CREATE TABLE trace_steps_p20990101 PARTITION OF trace_steps FOR VALUES FROM ('2099-01-01 00:00:00+00') TO ('2099-01-02 00:00:00+00')`);
        await tx.query(
          `INSERT INTO trace_steps (trace_id, span_id, workflow_id, workflow_type, layer, component, name, start_time, end_time, duration_ms)
           VALUES ($1, $2, 'wf-future', 'checkout', 'api', 'api-gateway', 'GET /', '2099-01-01 00:00:01+00', '2099-01-01 00:00:02+00', 1000)`,
          [trace3, hex(7, 16)],
        );
        const found = await spansOf(tx, { traceId: trace3 }, 10);
        expect(found.spans.map((s) => [s.span_id, s.start_time])).toEqual([[hex(7, 16), '2099-01-01T00:00:01.000000Z']]);
        throw new Error('roll back');
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error) || err.message !== 'roll back') throw err;
      });
  });

  it('spans for analysis: by workflow, microsecond times; a workflow over the span limit is left out', async () => {
    const byWf = await readSpansForAnalysis(db, ['wf-a', 'wf-b', 'nope'], 10);
    expect([...byWf.keys()]).toEqual(['wf-a', 'wf-b']);
    expect(byWf.get('wf-a')!.map((s) => [s.span_id, s.kind, s.is_error, s.start_us, s.end_us - s.start_us])).toEqual([
      [hex(1, 16), 2, false, T0 * 1000, 40_000],
      [hex(2, 16), 3, true, (T0 + 5) * 1000, 20_000],
    ]);
    expect([...(await readSpansForAnalysis(db, ['wf-a', 'wf-b'], 1)).keys()]).toEqual(['wf-b']);
    expect((await readSpansForAnalysis(db, [], 10)).size).toBe(0);
  });

  it('traces: services, operations, search by tags and duration, dependencies', async () => {
    expect(await listServices(db)).toEqual(['api-gateway', 'auth', 'orders-db']);
    expect(await listOperations(db, 'orders-db')).toEqual([{ name: 'SELECT orders', kind: 3 }]);
    expect(await listOperations(db, 'orders-db', 2)).toEqual([]);
    const range = { startFrom: iso(T0 - MIN), startTo: iso(T0 + 2 * MIN), limit: 10 };
    expect(await findTraceIds(db, { ...range, service: 'api-gateway', tags: [{ attribute: 'http.route', value: '/checkout' }] })).toEqual([TRACE1]);
    expect(await findTraceIds(db, { ...range, service: 'api-gateway', tags: [{ attribute: 'service.name', value: 'api-gateway' }] })).toEqual([TRACE1]);
    expect(await findTraceIds(db, { ...range, service: 'orders-db', tags: [{ column: 'is_error', value: true }], minDurationMs: 19, maxDurationMs: 21 })).toEqual([TRACE1]);
    expect(await findTraceIds(db, { ...range, service: 'api-gateway', tags: [{ column: 'layer', value: 'database' }] })).toEqual([]);
    expect(await findTraceIds(db, { ...range, service: 'auth', operation: 'nope', tags: [] })).toEqual([]);
    expect(await serviceDependencies(db, range.startFrom, range.startTo)).toEqual([{ parent: 'api-gateway', child: 'orders-db', callCount: 1 }]);
  });

  it('errors: list, one, of a workflow, resolve and unresolve', async () => {
    const list = await listErrors(db, { layer: 'database', resolved: false, fromMs: T0, toMs: T0 + MIN }, { limit: 10, offset: 0 });
    expect(list.total).toBe(1);
    const e = list.data[0]!;
    expect([e.correlation_id, e.component, e.message, typeof e.id]).toEqual(['wf-a', 'orders-db', 'boom', 'number']);
    expect(Object.keys(e)).toEqual(ERROR_KEYS);
    expect([e.occurred_at, e.resolved_at, e.attributes]).toEqual([expect.stringMatching(ISO_US), null, {}]);
    expect(await unresolvedErrorCounts(db)).toEqual([{ layer: 'database', severity: 'error', error_type: 'Error', count: 1 }]);
    expect(await unresolvedErrorCounts(db, 0)).toEqual([]);
    expect((await listErrors(db, { toMs: T0 }, { limit: 10, offset: 0 })).total).toBe(0);
    expect((await getError(db, e.id))?.span_id).toBe(hex(2, 16));
    expect(await getError(db, e.id + 1000)).toBeUndefined();
    expect((await errorsOfWorkflow(db, 'wf-a')).map((x) => x.id)).toEqual([e.id]);
    const resolved = await setErrorResolved(db, e.id, { resolved: true, by: 'alice' });
    expect([resolved?.resolved, resolved?.resolved_by, typeof resolved?.resolved_at]).toEqual([true, 'alice', 'string']);
    const again = await setErrorResolved(db, e.id, { resolved: false });
    expect([again?.resolved, again?.resolved_by, again?.resolved_at]).toEqual([false, null, null]);
    expect(await setErrorResolved(db, e.id + 1000, { resolved: false })).toBeUndefined();
    await setErrorResolved(db, e.id, { resolved: true, by: null });
    expect(await unresolvedErrorCounts(db)).toEqual([]);
    await setErrorResolved(db, e.id, { resolved: false });
  });

  it('alert rules: create (unique name), update, one, list, enabled, seed', async () => {
    const created = await createRule(db, { name: 'api p95', metric: 'duration_ms:p95', critical_threshold: 500, recipients: ['a@example.com'] });
    expect([created.source, created.window_seconds, created.warning_threshold, created.critical_threshold, created.recipients]).toEqual(['api', 300, null, 500, ['a@example.com']]);
    const dup = await createRule(db, { name: 'api p95', metric: 'duration_ms:p95' }).catch((err: unknown) => err);
    expect(isUniqueViolation(dup)).toBe(true);
    const updated = await updateRule(db, created.id, { enabled: false, warning_threshold: 200 });
    expect([updated?.enabled, updated?.warning_threshold]).toEqual([false, 200]);
    expect(await updateRule(db, created.id + 1000, { enabled: true })).toBeUndefined();
    expect((await getRule(db, created.id))?.name).toBe('api p95');
    await seedRules(db, [{ ...rule({ name: 'from-config' }), source: 'config' }, { ...rule({ name: 'from-file' }), source: 'defaults' }]);
    await seedRules(db, [{ ...rule({ name: 'from-config', warning_threshold: 150 }), source: 'config' }, { ...rule({ name: 'from-file', warning_threshold: 150 }), source: 'defaults' }]);
    const list = await listRules(db, { enabled: true }, { limit: 10, offset: 0 });
    expect(list.data.map((r) => [r.name, r.warning_threshold])).toEqual([['from-config', 150], ['from-file', 100]]);
    expect((await listRules(db, {}, { limit: 10, offset: 0 })).total).toBe(3);
    expect((await enabledRules(db)).map((r) => r.name)).toEqual(['from-config', 'from-file']);
  });

  it('alerts: open, firing, escalate, touch, resolve, list, one, several, notification status', async () => {
    const [r1, r2] = await enabledRules(db);
    const now = iso(T0);
    const ids = await db.transaction(async (tx) => {
      await lockEvaluation(tx);
      const a = await openAlert(tx, { ruleId: r1!.id, scopeKey: 'workflow_type=checkout', severity: 'warning', value: 120, threshold: 100, nowIso: now });
      const b = await openAlert(tx, { ruleId: r2!.id, scopeKey: '', severity: 'warning', value: 130, threshold: 100, nowIso: now });
      return [a, b] as const;
    });
    const firing = await firingAlerts(db, [r1!.id]);
    expect(firing).toEqual([{ id: ids[0], rule_id: r1!.id, scope_key: 'workflow_type=checkout', severity: 'warning', value: 120, threshold: 100, first_seen_ms: T0, last_notified_ms: T0 }]);
    await escalateAlert(db, ids[0], { threshold: 500, value: 600, nowIso: iso(T0 + MIN) });
    await touchAlert(db, ids[0], { value: 610, nowIso: iso(T0 + 2 * MIN), notify: false });
    let a = await getAlert(db, ids[0]);
    expect([a?.severity, a?.value, a?.threshold, a?.rule_name, a?.last_notified_at?.startsWith(iso(T0 + MIN).slice(0, 19))]).toEqual(['critical', 610, 500, r1!.name, true]);
    await touchAlert(db, ids[0], { value: 620, nowIso: iso(T0 + 3 * MIN), notify: true });
    await setAlertNotification(db, ids[0], 'sent');
    await resolveAlert(db, ids[0], { value: null, nowIso: iso(T0 + 4 * MIN) });
    a = await getAlert(db, ids[0]);
    expect([a?.state, a?.value, a?.notification_status, a?.resolved_at?.slice(0, 19)]).toEqual(['resolved', 620, 'pending', iso(T0 + 4 * MIN).slice(0, 19)]);
    await resolveAlertsOfOtherRules(db, [r1!.id], now); // r2 "disabled": its alert stops firing
    expect(await firingAlerts(db, [r1!.id, r2!.id])).toEqual([]);
    const list = await listAlerts(db, { state: 'resolved', fromMs: T0 }, { limit: 1, offset: 0 });
    expect([list.total, list.data[0]?.id]).toEqual([2, ids[1]]); // newest first
    expect((await listAlerts(db, { toMs: T0 }, { limit: 10, offset: 0 })).total).toBe(0);
    expect((await getAlerts(db, [ids[1], 999_999])).map((x) => [x.id, x.rule_name])).toEqual([[ids[1], r2!.name]]);
    expect(await getAlerts(db, [])).toEqual([]);
    expect(Object.keys(list.data[0]!)).toEqual(ALERT_KEYS);
    expect(Object.keys(a!)).toEqual(ALERT_KEYS);
    expect([a?.first_seen, a?.window_seconds, typeof a?.rule_id]).toEqual([expect.stringMatching(ISO_US), 300, 'number']);
    expect(await getAlert(db, 999_999)).toBeUndefined();
  });

  it('outbox: idempotent insert, pending, claim, lock, sent is final, abandoned, list', async () => {
    const [alert] = (await listAlerts(db, {}, { limit: 1, offset: 0 })).data;
    const m = { alertId: alert!.id, recipients: ['a@example.com'], subject: 's', text: 't', html: '<p>t</p>', status: 'pending' as const, lastError: null };
    const id = (await insertOutbox(db, { ...m, key: 'k1' }))!;
    expect(await insertOutbox(db, { ...m, key: 'k1' })).toBeUndefined();
    const unsent = (await insertOutbox(db, { ...m, key: 'k2', status: 'unsent', lastError: 'no smtp' }))!;
    expect(await pendingOutbox(db, 5)).toEqual([id]);
    const claimed = await claimOutbox(db, id);
    expect([claimed?.id, claimed?.alert_id, claimed?.attempts, claimed?.body_html, claimed?.recipients]).toEqual([id, alert!.id, 1, '<p>t</p>', ['a@example.com']]);
    expect(await claimOutbox(db, unsent)).toBeUndefined();
    expect([await outboxStatus(db, id), await outboxStatus(db, unsent), await outboxStatus(db, 999_999)]).toEqual(['sending', 'unsent', undefined]);
    expect(await db.transaction((tx) => lockOutboxRow(tx, id))).toBe('sending');
    expect(await failAbandonedOutbox(db, 1, iso(Date.now() + MIN))).toBe(1);
    expect(await outboxStatus(db, id)).toBe('failed');
    await markOutboxSent(db, id);
    await markOutboxFailed(db, id, 'failed', 'late failure');
    expect(await outboxStatus(db, id)).toBe('sent');
    const list = await listOutbox(db, { alertId: alert!.id }, { limit: 10, offset: 0 });
    expect(list.data.map((r) => [r.id, r.status])).toEqual([[unsent, 'unsent'], [id, 'sent']]);
    expect(Object.keys(list.data[1]!)).toEqual([
      'id', 'alert_id', 'recipients', 'subject', 'body_text', 'status', 'attempts', 'last_error', 'created_at', 'updated_at', 'sent_at',
    ]);
    expect([list.data[1]!.created_at, list.data[1]!.sent_at, list.data[0]!.sent_at]).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      expect.stringMatching(/\.\d{6}Z$/),
      null,
    ]);
    expect(list.total).toBe(2);
    expect((await listOutbox(db, { status: 'pending' }, { limit: 10, offset: 0 })).total).toBe(0);
  });

  it('snapshots: series per step and group with merged buckets; rows in a window', async () => {
    const { cells, buckets } = await snapshotSeries(db, {
      metric: 'duration_ms', fromIso: iso(T0), toIso: iso(T0 + 10 * MIN), stepSeconds: 600, groupBy: ['workflow_type'],
    });
    expect(cells.map((c) => [c.workflow_type, Number(c.t), Number(c.n), Number(c.errors), Number(c.total)]).sort()).toEqual([
      ['checkout', Math.floor(T0 / 600_000) * 600, 3, 1, 120],
      ['login', Math.floor((T0 + MIN) / 600_000) * 600, 3, 0, 120],
    ]);
    expect(buckets.map((b) => [b.workflow_type, b.i, Number(b.n)]).sort()).toEqual([
      ['checkout', bucketIndex(40) + 1, 3],
      ['login', bucketIndex(40) + 1, 3],
    ]);
    const filtered = await snapshotSeries(db, { metric: 'duration_ms', fromIso: iso(T0), toIso: iso(T0 + 10 * MIN), stepSeconds: 60, groupBy: [], component: 'auth' });
    expect(filtered.cells.map((c) => Number(c.t) * 1000)).toEqual([T0 + MIN]);
    const rows = await snapshotsInWindow(db, { metric: 'duration_ms', fromIso: iso(T0 - MIN), toIso: iso(T0), scope: { layer: 'api' } });
    expect(rows.map((r) => [r.workflow_type, r.layer, r.component, r.count, r.error_count, r.sum, r.min, r.max, r.buckets.length])).toEqual([
      ['checkout', 'api', 'api-gateway', 3, 1, 120, 40, 40, BUCKET_COUNT],
    ]);
    expect(rows[0]!.buckets[bucketIndex(40)]).toBe(3); // numbers on both drivers
    expect(rows[0]!.buckets.every((b) => typeof b === 'number')).toBe(true);
    expect(await snapshotsInWindow(db, { metric: 'duration_ms', fromIso: iso(T0), toIso: iso(T0 + MIN), scope: { workflow_type: 'checkout' } })).toEqual([]);
  });

  it('tokens: insert, find active (stale until used), exists, admin exists, revoke once, list', async () => {
    expect(await activeAdminExists(db)).toBe(false);
    const t = await insertToken(db, { name: 'ci', role: 'admin', hash: 'h'.repeat(64), prefix: 'fs_abc' });
    expect([t.name, t.role, t.prefix, t.revoked_at, typeof t.created_at]).toEqual(['ci', 'admin', 'fs_abc', null, 'string']);
    expect((await findActiveToken(db, 'h'.repeat(64)))?.stale).toBe(true);
    await recordTokenUse(db, t.id);
    expect((await findActiveToken(db, 'h'.repeat(64)))?.stale).toBe(false);
    expect([await tokenHashExists(db, 'h'.repeat(64)), await tokenHashExists(db, 'x'), await activeAdminExists(db)]).toEqual([true, false, true]);
    expect([await revokeToken(db, t.id), await revokeToken(db, t.id)]).toEqual([true, false]);
    expect(await findActiveToken(db, 'h'.repeat(64))).toBeUndefined();
    expect(await activeAdminExists(db)).toBe(false);
    expect((await listTokens(db)).map((x) => [x.id, typeof x.revoked_at])).toEqual([[t.id, 'string']]);
  });

  it('token bootstrap lock: held by one transaction at a time', async () => {
    const order: string[] = [];
    let release!: () => void;
    let locked!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const firstLocked = new Promise<void>((r) => (locked = r));
    const first = db.transaction(async (tx) => {
      await lockTokenBootstrap(tx);
      order.push('first locked');
      locked();
      await held;
      order.push('first done');
    });
    await firstLocked;
    const second = db.transaction(async (tx) => {
      await lockTokenBootstrap(tx);
      order.push('second locked');
    });
    await new Promise((r) => setTimeout(r, 100));
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first locked', 'first done', 'second locked']);
  });

  it('tokens inside a transaction: typed queries join it (rolled back with it); a refused write is the driver\'s error', async () => {
    const hash = 'r'.repeat(64);
    await expect(
      db.transaction(async (tx) => {
        await insertToken(tx, { name: 'tx', role: 'viewer', hash, prefix: 'fs_tx' });
        expect(await tokenHashExists(tx, hash)).toBe(true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await tokenHashExists(db, hash)).toBe(false);
    await insertToken(db, { name: 'one', role: 'viewer', hash, prefix: 'fs_one' });
    const err = await insertToken(db, { name: 'two', role: 'viewer', hash, prefix: 'fs_two' }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/duplicate key value violates unique constraint/);
  });

  it('health counts', async () => {
    const h = await healthCounts(db);
    expect(h).toMatchObject({
      activeWorkflows: 1,
      activeByType: [{ workflow_type: 'login', n: 1 }],
      failedLastHour: 1,
      timedOutLastHour: 0,
      unresolvedErrors: 1,
      alertsFiring: 0,
      rulesEnabled: 2,
    });
    // snapshots of ten minutes ago are outside the last five minutes
    expect([h.spansLast5m, h.errorsLast5m]).toEqual([0, 0]);
  });
});
