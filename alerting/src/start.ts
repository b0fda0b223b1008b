import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { classifyDbError, describeDbError, type Database } from '@flowscope/storage';
import type { EventBus, ReadinessCheck } from '@flowscope/common';
import type { AlertingConfig } from './config.ts';
import { createMailer, DatabaseUnavailableError, deliverEmail, type DeliveryOutcome, type Mailer } from './email.ts';
import { evaluateRules, pendingOutbox, type EvaluationResult } from './evaluate.ts';
import { failAbandonedEmails, runEnsurePartitions, runRetention, runWorkflowTimeouts } from './maintenance.ts';
import { loadRules, seedRules } from './rules.ts';
import { publishAlertEvents, publishTimeoutEvents } from './live.ts';
import { startBullmqScheduler, startInProcessScheduler, type Scheduler } from './scheduler.ts';

export interface StartAlertingOptions {
  db: Database;
  config: AlertingConfig & { FLOWSCOPE_PARTITIONS_AHEAD_DAYS?: number | undefined };
  logger: Logger;
  /** Overrides config.REDIS_URL; BullMQ when set, the in-process scheduler otherwise. */
  redisUrl?: string | undefined;
  /** Injected clock (ms since the epoch) for evaluation and maintenance. */
  clock?: () => number;
  /** Registry for the worker's metrics (the all-in-one passes its shared one). */
  registry?: Registry;
  /** Replaces the SMTP transport built from config (tests). */
  mailer?: Mailer | null;
  /** Where alert and workflow time-out events go (the query API's live stream). */
  liveEvents?: EventBus;
}

export interface AlertingEvents {
  evaluated: [EvaluationResult];
  /** A job failed: `kind` says why (database unavailable, data it refused, anything else). */
  jobFailed: [{ job: string; kind: JobFailureKind; error: string }];
  email: [{ outboxId: number; outcome: DeliveryOutcome | 'retry' | 'failed' }];
  maintenance: [{ job: string; result: number | string[] }];
}

export interface AlertingHandle {
  readonly scheduler: Scheduler['kind'];
  readonly registry: Registry;
  /** Local notifications of jobs this process ran (tests, logs). */
  readonly events: EventEmitter<AlertingEvents>;
  /** Readiness of the database and, with BullMQ, Redis. */
  readonly checks: ReadinessCheck[];
  /** Stops the schedulers (running jobs finish), closes SMTP. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Why a job failed, from the database error classes (storage/src/errors.ts):
 * - `database_unavailable`: PostgreSQL is down, restarting or refusing connections; the job
 *   runs again at its next tick (emails: their retry, then the outbox sweep), nothing is lost;
 * - `database_refused`: the database refused the job's data (SQLSTATE 22/23/54); a person
 *   should look, the next tick tries again;
 * - `error`: anything else.
 */
export type JobFailureKind = 'database_unavailable' | 'database_refused' | 'error';

export function jobFailureKind(err: unknown): JobFailureKind {
  if (err instanceof DatabaseUnavailableError) return 'database_unavailable';
  switch (classifyDbError(err)) {
    case 'unavailable':
    case 'retry':
      return 'database_unavailable';
    case 'data':
      return 'database_refused';
    default:
      return 'error';
  }
}

/**
 * Starts the alerting worker: seeds rules, then runs evaluation, email delivery and maintenance
 * on BullMQ (REDIS_URL) or the in-process scheduler. Does not own `db` (the caller closes it).
 */
export async function startAlerting(options: StartAlertingOptions): Promise<AlertingHandle> {
  const { db, config } = options;
  const logger = options.logger.child({ component: 'alerting' });
  const clock = options.clock ?? Date.now;
  const registry = options.registry ?? new Registry();
  const redisUrl = options.redisUrl ?? config.REDIS_URL;
  const events = new EventEmitter<AlertingEvents>();
  const mailer = options.mailer !== undefined ? options.mailer : createMailer(config);
  if (!mailer) logger.warn('EMAIL_HOST is unset: alert emails are kept in the outbox as unsent');

  const metrics = {
    evaluations: counter(registry, 'flowscope_alerting_evaluations_total', 'Evaluation ticks by outcome', ['outcome']),
    decisions: counter(registry, 'flowscope_alerting_decisions_total', 'State machine decisions by action and reason', ['action', 'reason']),
    emails: counter(registry, 'flowscope_alerting_email_attempts_total', 'Email delivery attempts by outcome', ['outcome']),
    maintenance: counter(registry, 'flowscope_alerting_maintenance_runs_total', 'Maintenance job runs by job and outcome', ['job', 'outcome']),
  };

  await seedRules(db, config);
  const ruleValues = ruleValueGauge(registry);
  ruleThresholdGauge(registry, db, Math.max(5000, Math.round(config.FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS * 1000)));

  // One warning when the database goes away (not one per job and tick), one line when it is back.
  let databaseDown = false;
  const failed = (job: string, err: unknown): JobFailureKind => {
    const kind = jobFailureKind(err);
    const error = describeDbError(err);
    if (kind === 'database_unavailable') {
      if (!databaseDown) logger.warn({ job, err: error }, 'database unavailable: alert evaluation, maintenance and email delivery retry until it is back');
      else logger.debug({ job, err: error }, 'database still unavailable');
      databaseDown = true;
    } else if (kind === 'database_refused') {
      logger.error({ job, err: error }, 'the database refused the data of an alerting job; it runs again at its next tick');
    } else {
      logger.error({ job, err: error }, 'alerting job failed');
    }
    events.emit('jobFailed', { job, kind, error });
    return kind;
  };
  const succeeded = (job: string) => {
    if (!databaseDown) return;
    databaseDown = false;
    logger.info({ job }, 'database is back: alerting jobs run again');
  };

  const tickMs = Math.round(config.FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS * 1000);
  const maintenanceMs = Math.round(config.FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS * 1000);
  let scheduler: Scheduler | undefined;

  // The in-process scheduler is this worker's alone: the window since its last evaluation is
  // exact (a late or catch-up tick misses no rule's multiple). Ticks shared through BullMQ run on
  // any worker, so each covers one tick.
  let lastEvaluationMs: number | undefined;
  const evaluate = async () => {
    let result: EvaluationResult;
    const nowMs = clock();
    const sinceMs = scheduler?.kind === 'in-process' && lastEvaluationMs !== undefined && nowMs > lastEvaluationMs ? nowMs - lastEvaluationMs : tickMs;
    try {
      result = await evaluateRules({ db, config, logger, smtpConfigured: mailer !== null }, nowMs, tickMs, sinceMs);
      lastEvaluationMs = nowMs; // after a failed evaluation the next one covers its window too
    } catch (err) {
      metrics.evaluations.inc({ outcome: failed('evaluate', err) });
      throw err;
    }
    succeeded('evaluate');
    metrics.evaluations.inc({ outcome: 'ok' });
    ruleValues.update(result);
    for (const d of result.decisions) metrics.decisions.inc({ action: d.action, reason: d.reason });
    // After commit: hand new emails to the queue, and re-sweep any whose job was lost.
    if (mailer) {
      const ids = new Set([...result.outboxIds, ...(await pendingOutbox(db, config.FLOWSCOPE_EMAIL_MAX_ATTEMPTS))]);
      for (const id of ids) await scheduler?.enqueueEmail(id);
    }
    events.emit('evaluated', result);
    if (options.liveEvents) {
      const changed = result.decisions.filter((d) => d.alertId !== undefined && (d.action === 'fire' || d.action === 'escalate' || d.action === 'resolve'));
      await publishAlertEvents(db, options.liveEvents, logger, changed.map((d) => d.alertId!), new Date(clock()).toISOString());
    }
  };

  const maintenance = (job: string, fn: () => Promise<number | string[]>) => async () => {
    try {
      const result = await fn();
      succeeded(job);
      metrics.maintenance.inc({ job, outcome: 'ok' });
      if ((Array.isArray(result) && result.length > 0) || (typeof result === 'number' && result > 0)) logger.info({ job, result }, 'maintenance');
      events.emit('maintenance', { job, result });
    } catch (err) {
      metrics.maintenance.inc({ job, outcome: failed(job, err) });
      throw err;
    }
  };

  const repeatable = [
    { name: 'evaluate', everyMs: tickMs, run: evaluate },
    { name: 'ensure-partitions', everyMs: maintenanceMs, run: maintenance('ensure-partitions', () => runEnsurePartitions(db, config, clock())) },
    { name: 'retention', everyMs: maintenanceMs, run: maintenance('retention', () => runRetention(db, config, clock())) },
    {
      name: 'workflow-timeouts',
      everyMs: maintenanceMs,
      run: maintenance('workflow-timeouts', async () => {
        const ids = await runWorkflowTimeouts(db, config, clock());
        if (options.liveEvents) await publishTimeoutEvents(db, options.liveEvents, logger, ids, new Date(clock()).toISOString());
        return ids.length;
      }),
    },
    {
      name: 'abandoned-emails',
      everyMs: maintenanceMs,
      run: maintenance('abandoned-emails', () => failAbandonedEmails(db, config, clock(), Math.max(10 * config.FLOWSCOPE_QUEUE_LOCK_MS, 600_000))),
    },
  ];

  const email = async (outboxId: number, attempt: { attempt: number; final: boolean }) => {
    try {
      const outcome = await deliverEmail({ db, mailer, logger, secret: config.EMAIL_HOST_PASSWORD }, outboxId, attempt);
      metrics.emails.inc({ outcome });
      events.emit('email', { outboxId, outcome });
    } catch (err) {
      const kind = jobFailureKind(err);
      if (kind !== 'error') failed('email', err);
      const outcome = kind === 'error' && (attempt.final || (err as Error).name === 'UnrecoverableError') ? 'failed' : 'retry';
      metrics.emails.inc({ outcome: kind === 'database_unavailable' ? 'database_unavailable' : outcome });
      events.emit('email', { outboxId, outcome });
      throw err;
    }
  };

  const retry = { attempts: config.FLOWSCOPE_EMAIL_MAX_ATTEMPTS, backoffMs: config.FLOWSCOPE_EMAIL_BACKOFF_MS };
  const jobs = { repeatable, email };
  try {
    scheduler = redisUrl
      ? await startBullmqScheduler(jobs, {
          redisUrl,
          prefix: config.FLOWSCOPE_QUEUE_PREFIX ?? 'flowscope',
          lockMs: config.FLOWSCOPE_QUEUE_LOCK_MS,
          emailConcurrency: config.FLOWSCOPE_EMAIL_CONCURRENCY,
          retry,
          logger,
        })
      : startInProcessScheduler(jobs, { emailConcurrency: config.FLOWSCOPE_EMAIL_CONCURRENCY, retry, logger });
  } catch (err) {
    mailer?.close();
    throw err;
  }
  const running = scheduler;
  queueGauge(registry, () => running.jobCounts());
  logger.info({ scheduler: running.kind, evalIntervalMs: tickMs, smtp: mailer !== null }, 'alerting started');

  let closing: Promise<void> | undefined;
  return {
    scheduler: running.kind,
    registry,
    events,
    checks: [
      { name: 'database', check: () => db.ping() },
      ...(running.kind === 'bullmq' ? [{ name: 'redis', check: () => running.ping() }] : []),
    ],
    close: () =>
      (closing ??= (async () => {
        await running.close();
        mailer?.close();
        logger.info('alerting stopped');
      })()),
  };
}

/**
 * `flowscope_alert_rule_value{rule, scope}`: the value each rule had at its last evaluation on
 * this worker, per scope (what the thresholds dashboard draws against the rule's lines). Scopes
 * that no longer have a value (too few observations in the window) are removed.
 */
function ruleValueGauge(registry: Registry): { update(result: EvaluationResult): void } {
  const gauge =
    (registry.getSingleMetric('flowscope_alert_rule_value') as Gauge | undefined) ??
    new Gauge({ name: 'flowscope_alert_rule_value', help: 'Value of each alert rule per scope at its last evaluation on this worker', labelNames: ['rule', 'scope'], registers: [registry] });
  const scopes = new Map<string, Set<string>>();
  return {
    update(result) {
      for (const rule of result.rules) {
        const now = new Set<string>();
        for (const d of result.decisions) {
          if (d.rule !== rule || d.value === null || !Number.isFinite(d.value)) continue;
          const scope = d.scopeKey === '' ? 'all' : d.scopeKey;
          gauge.set({ rule, scope }, d.value);
          now.add(scope);
        }
        for (const old of scopes.get(rule) ?? []) if (!now.has(old)) gauge.remove({ rule, scope: old });
        scopes.set(rule, now);
      }
    },
  };
}

/** `flowscope_alert_rule_threshold{rule, level, metric, workflow_type, layer, component}` from the enabled rules. */
function ruleThresholdGauge(registry: Registry, db: Database, cacheMs: number): void {
  if (registry.getSingleMetric('flowscope_alert_rule_threshold')) return;
  let cached: { at: number; rules: Awaited<ReturnType<typeof loadRules>>['rules'] } | undefined;
  new Gauge({
    name: 'flowscope_alert_rule_threshold',
    help: 'Warning and critical thresholds of each enabled alert rule (in the unit of its metric)',
    labelNames: ['rule', 'level', 'metric', 'workflow_type', 'layer', 'component'],
    registers: [registry],
    async collect() {
      if (!cached || Date.now() - cached.at > cacheMs) {
        try {
          cached = { at: Date.now(), rules: (await loadRules(db)).rules };
        } catch {
          return; // storage down: keep the last values rather than fail the scrape
        }
      }
      this.reset();
      for (const r of cached.rules) {
        const labels = { rule: r.name, metric: r.metric, workflow_type: r.workflow_type ?? '', layer: r.layer ?? '', component: r.component ?? '' };
        if (r.warning !== null) this.set({ ...labels, level: 'warning' }, r.warning);
        if (r.critical !== null) this.set({ ...labels, level: 'critical' }, r.critical);
      }
    },
  });
}

/** `flowscope_alerting_queue_jobs{queue, state}`: jobs waiting, running, delayed (retries) and failed. */
function queueGauge(registry: Registry, counts: () => Promise<Record<string, Record<string, number>>>): void {
  if (registry.getSingleMetric('flowscope_alerting_queue_jobs')) return;
  new Gauge({
    name: 'flowscope_alerting_queue_jobs',
    help: 'Alerting worker jobs by queue and state (BullMQ on Redis, or the in-process scheduler)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      let byQueue: Record<string, Record<string, number>>;
      try {
        byQueue = await counts();
      } catch {
        return;
      }
      this.reset();
      for (const [queue, states] of Object.entries(byQueue)) for (const [state, n] of Object.entries(states)) this.set({ queue, state }, n);
    },
  });
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}
