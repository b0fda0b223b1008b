import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Counter, Registry } from 'prom-client';
import type { Database } from '@flowscope/storage';
import type { EventBus, ReadinessCheck } from '@flowscope/common';
import type { AlertingConfig } from './config.ts';
import { createMailer, deliverEmail, type DeliveryOutcome, type Mailer } from './email.ts';
import { evaluateRules, pendingOutbox, type EvaluationResult } from './evaluate.ts';
import { failAbandonedEmails, runEnsurePartitions, runRetention, runWorkflowTimeouts } from './maintenance.ts';
import { seedRules } from './rules.ts';
import { publishAlertEvents, publishTimeoutEvents } from './live.ts';
import { startBullmqScheduler, startInProcessScheduler, type Scheduler } from './scheduler.ts';

export { alertingConfigShape, alertingConfig, type AlertingConfig } from './config.ts';
export { decide, levelOf, resolveBelow, type Decision, type Severity, type Thresholds } from './state.ts';
export { renderAlertEmail, alertLinks, type AlertEmailInput, type RenderedEmail } from './render.ts';
export { seedRules, loadRules, configRules, loadRulesFile, parseMetric, DEFAULT_RULES_FILE, EACH, type AlertRule, type SeedRule } from './rules.ts';
export { computeValues, type ScopeValue } from './values.ts';
export { evaluateRules, isDue, type EvaluationResult, type RuleDecision } from './evaluate.ts';
export { deliverEmail, createMailer, messageIdOf, type Mailer, type DeliveryOutcome } from './email.ts';
export { runEnsurePartitions, runRetention, runWorkflowTimeouts, failAbandonedEmails } from './maintenance.ts';
export { startBullmqScheduler, startInProcessScheduler, type Scheduler, type JobFunctions } from './scheduler.ts';

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

  const tickMs = Math.round(config.FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS * 1000);
  const maintenanceMs = Math.round(config.FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS * 1000);
  let scheduler: Scheduler | undefined;

  const evaluate = async () => {
    let result: EvaluationResult;
    try {
      result = await evaluateRules({ db, config, logger, smtpConfigured: mailer !== null }, clock(), tickMs);
    } catch (err) {
      metrics.evaluations.inc({ outcome: 'error' });
      logger.error({ err: (err as Error).message }, 'alert evaluation failed');
      throw err;
    }
    metrics.evaluations.inc({ outcome: 'ok' });
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
      metrics.maintenance.inc({ job, outcome: 'ok' });
      if ((Array.isArray(result) && result.length > 0) || (typeof result === 'number' && result > 0)) logger.info({ job, result }, 'maintenance');
      events.emit('maintenance', { job, result });
    } catch (err) {
      metrics.maintenance.inc({ job, outcome: 'error' });
      logger.error({ job, err: (err as Error).message }, 'maintenance job failed');
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
      const outcome = attempt.final || (err as Error).name === 'UnrecoverableError' ? 'failed' : 'retry';
      metrics.emails.inc({ outcome });
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

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}
