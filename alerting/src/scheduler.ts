import { Queue, Worker, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A job that runs on a fixed interval, on one worker at a time per tick. */
export interface RepeatableJob {
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

/**
 * What the scheduler runs. Email jobs are keyed by outbox id: enqueueing an id that is already
 * waiting, delayed for a retry or running is a no-op, so the outbox can be re-swept freely.
 */
export interface JobFunctions {
  repeatable: RepeatableJob[];
  email(outboxId: number, attempt: { attempt: number; final: boolean }): Promise<void>;
}

export interface RetryPolicy {
  /** Total attempts per email, the first included. */
  attempts: number;
  /** Delay before the first retry; doubled before each further one (BullMQ's exponential backoff). */
  backoffMs: number;
}

export interface Scheduler {
  readonly kind: 'bullmq' | 'in-process';
  enqueueEmail(outboxId: number): Promise<void>;
  /** Stops taking new jobs and waits for running ones to finish. Safe to call twice. */
  close(): Promise<void>;
  /** Resolves when the scheduler's backing store answers. */
  ping(): Promise<void>;
  /** Jobs per queue and state (waiting, active, delayed, failed), for the queue-depth gauge. */
  jobCounts(): Promise<Record<string, Record<string, number>>>;
}

const COUNTED_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

export const emailJobId = (outboxId: number) => `email-${outboxId}`;

export const backoffDelay = (policy: RetryPolicy, failedAttempts: number) => policy.backoffMs * 2 ** Math.max(0, failedAttempts - 1);

export interface BullmqOptions {
  redisUrl: string;
  prefix: string;
  lockMs: number;
  emailConcurrency: number;
  retry: RetryPolicy;
  logger: Logger;
}

/**
 * BullMQ on Redis: queue `alerting` holds the repeatable jobs (job schedulers, shared by every
 * worker, so each tick runs once), queue `email` one job per outbox row with retries and
 * exponential backoff. A worker that dies mid-job loses its lock after `lockMs`; the stalled-job
 * check of another worker then puts the job back and it runs again there.
 */
export async function startBullmqScheduler(jobs: JobFunctions, options: BullmqOptions): Promise<Scheduler> {
  const { prefix, logger } = options;
  const connections: Redis[] = [];
  const connection = () => {
    const c = new Redis(options.redisUrl, { maxRetriesPerRequest: null, lazyConnect: false });
    c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    connections.push(c);
    return c;
  };
  const workerOptions = { prefix, lockDuration: options.lockMs, stalledInterval: Math.max(500, Math.floor(options.lockMs / 2)), maxStalledCount: 2 };

  const alertingQueue = new Queue('alerting', { connection: connection(), prefix });
  const emailQueue = new Queue('email', { connection: connection(), prefix });
  for (const q of [alertingQueue, emailQueue]) q.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));

  const byName = new Map(jobs.repeatable.map((j) => [j.name, j]));
  const alertingWorker = new Worker(
    'alerting',
    async (job: Job) => {
      const j = byName.get(job.name);
      if (!j) throw new UnrecoverableError(`unknown job ${job.name}`);
      await j.run();
    },
    { ...workerOptions, connection: connection(), concurrency: 1 },
  );
  const emailWorker = new Worker(
    'email',
    async (job: Job<{ outboxId: number }>) => {
      const attempts = job.opts.attempts ?? 1;
      await jobs.email(job.data.outboxId, { attempt: job.attemptsMade + 1, final: job.attemptsMade + 1 >= attempts });
    },
    { ...workerOptions, connection: connection(), concurrency: options.emailConcurrency },
  );
  for (const w of [alertingWorker, emailWorker]) {
    w.on('error', (err) => logger.warn({ err: err.message }, 'worker error'));
    w.on('failed', (job, err) => logger.debug({ job: job?.name, jobId: job?.id, err: err.message }, 'job failed'));
  }
  for (const j of jobs.repeatable) {
    await alertingQueue.upsertJobScheduler(j.name, { every: j.everyMs }, { name: j.name, opts: { removeOnComplete: true, removeOnFail: 50 } });
  }

  let closing: Promise<void> | undefined;
  return {
    kind: 'bullmq',
    enqueueEmail: async (outboxId) => {
      await emailQueue.add(
        'deliver',
        { outboxId },
        {
          jobId: emailJobId(outboxId),
          attempts: options.retry.attempts,
          backoff: { type: 'exponential', delay: options.retry.backoffMs },
          // Finished jobs leave Redis: the outbox row is the record. A later re-sweep of a row
          // still waiting then creates a fresh job instead of hitting a stale id.
          removeOnComplete: true,
          removeOnFail: true,
        },
      );
    },
    ping: async () => {
      const c = connections[0];
      if (!c) throw new Error('redis is closed');
      await c.ping();
    },
    jobCounts: async () => {
      const [alerting, email] = await Promise.all([alertingQueue.getJobCounts(...COUNTED_STATES), emailQueue.getJobCounts(...COUNTED_STATES)]);
      return { alerting, email };
    },
    close: () =>
      (closing ??= (async () => {
        // Workers first: they stop fetching and wait for the jobs they run (nothing half-sent);
        // the job schedulers stay in Redis for the other workers.
        await Promise.allSettled([alertingWorker.close(), emailWorker.close()]);
        await Promise.allSettled([alertingQueue.close(), emailQueue.close()]);
        await Promise.allSettled(connections.map((c) => c.quit()));
        for (const c of connections) c.disconnect();
      })()),
  };
}

/**
 * The same jobs without Redis (all-in-one only): repeatable jobs on unref'd timers that never
 * overlap themselves, email jobs with the same attempts and exponential backoff as BullMQ and
 * the same de-duplication by outbox id. Jobs waiting for a retry when the process stops stay
 * 'pending' in the outbox and are swept again at the next start.
 */
export function startInProcessScheduler(jobs: JobFunctions, options: { emailConcurrency: number; retry: RetryPolicy; logger: Logger }): Scheduler {
  const { logger, retry } = options;
  let closed = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    running.add(p);
    void p.finally(() => running.delete(p)).catch(() => undefined);
    return p;
  };

  for (const j of jobs.repeatable) {
    let busy = false;
    // A tick that comes while the job still runs is not dropped: the job runs once more right
    // after (one catch-up however many ticks it overran), so an evaluation that overruns its
    // interval delays the next one by the overrun, not by a whole interval.
    let behind = false;
    const tick = () => {
      if (closed) return;
      if (busy) {
        behind = true;
        return;
      }
      busy = true;
      void track(
        j.run()
          .catch((err: unknown) => logger.debug({ job: j.name, err: (err as Error).message }, 'job failed'))
          .finally(() => {
            busy = false;
            if (behind) {
              behind = false;
              tick();
            }
          }),
      );
    };
    const first = setTimeout(tick, 0);
    first.unref();
    timers.add(first);
    const t = setInterval(tick, j.everyMs);
    t.unref();
    timers.add(t);
  }

  /** Email jobs known to the scheduler (waiting, delayed or running), by outbox id. */
  const known = new Set<number>();
  const waiting: { id: number; attempt: number }[] = [];
  let active = 0;
  const pump = () => {
    while (!closed && active < options.emailConcurrency && waiting.length > 0) {
      const next = waiting.shift()!;
      active += 1;
      void track(runEmail(next.id, next.attempt)).finally(() => {
        active -= 1;
        pump();
      });
    }
  };
  const runEmail = async (id: number, attempt: number) => {
    try {
      await jobs.email(id, { attempt, final: attempt >= retry.attempts });
      known.delete(id);
    } catch (err) {
      const permanent = err instanceof UnrecoverableError || (err as Error).name === 'UnrecoverableError';
      if (permanent || attempt >= retry.attempts || closed) {
        known.delete(id);
        return;
      }
      const t = setTimeout(() => {
        timers.delete(t);
        waiting.push({ id, attempt: attempt + 1 });
        pump();
      }, backoffDelay(retry, attempt));
      t.unref();
      timers.add(t);
    }
  };

  let closing: Promise<void> | undefined;
  return {
    kind: 'in-process',
    enqueueEmail: async (id) => {
      if (closed || known.has(id)) return;
      known.add(id);
      waiting.push({ id, attempt: 1 });
      pump();
    },
    ping: async () => {
      if (closed) throw new Error('scheduler is closed');
    },
    jobCounts: async () => ({
      email: { waiting: waiting.length, active, delayed: Math.max(0, known.size - waiting.length - active), failed: 0 },
    }),
    close: () =>
      (closing ??= (async () => {
        closed = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        waiting.length = 0;
        while (running.size > 0) await Promise.allSettled([...running]);
      })()),
  };
}
