import { describe, expect, it, vi } from 'vitest';
import { UnrecoverableError } from 'bullmq';
import { backoffDelay, startInProcessScheduler } from '../src/scheduler.ts';
import { testLogger, waitFor } from './helpers.ts';

/** The in-process scheduler keeps BullMQ's retry semantics: attempts, exponential backoff, permanent errors, de-duplication. */
describe('in-process scheduler', () => {
  const retry = { attempts: 4, backoffMs: 5 };

  it('computes BullMQ exponential backoff delays', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay({ attempts: 5, backoffMs: 100 }, n))).toEqual([100, 200, 400, 800]);
  });

  it.each([
    ['succeeds on the third attempt', 2, false, [1, 2, 3], [false, false, false]],
    ['gives up after the last attempt, marked final', 99, false, [1, 2, 3, 4], [false, false, false, true]],
    ['does not retry a permanent error', 99, true, [1], [false]],
  ])('%s', async (_name, failures, permanent, expectedAttempts, expectedFinal) => {
    const attempts: number[] = [];
    const finals: boolean[] = [];
    let settled = false;
    const s = startInProcessScheduler(
      {
        repeatable: [],
        email: async (_id, a) => {
          attempts.push(a.attempt);
          finals.push(a.final);
          if (a.attempt <= failures) {
            if (permanent || a.final) settled = true;
            throw permanent ? new UnrecoverableError('550 rejected') : new Error('ECONNREFUSED');
          }
          settled = true;
        },
      },
      { emailConcurrency: 2, retry, logger: testLogger() },
    );
    // The second enqueue comes while the first job is still known: no second job. (Once a job
    // has finished, the id may be enqueued again: delivery itself is idempotent on the outbox.)
    const first = s.enqueueEmail(7);
    await s.enqueueEmail(7);
    await first;
    await waitFor(() => settled, 'the job to settle');
    await s.close();
    expect(attempts).toEqual(expectedAttempts);
    expect(finals).toEqual(expectedFinal);
  });

  it('never overlaps a repeatable job with itself, and close() waits for a running one', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let finished = 0;
    const s = startInProcessScheduler(
      {
        repeatable: [
          {
            name: 'slow',
            everyMs: 2,
            run: async () => {
              running += 1;
              runs += 1;
              maxRunning = Math.max(maxRunning, running);
              await new Promise((r) => setTimeout(r, 30));
              running -= 1;
              finished += 1;
            },
          },
        ],
        email: async () => undefined,
      },
      { emailConcurrency: 1, retry, logger: testLogger() },
    );
    await waitFor(() => runs >= 3, 'three runs');
    await s.close();
    await s.close();
    expect(maxRunning).toBe(1);
    expect(finished).toBe(runs);
  });

  it('a tick missed while the job ran is caught up right after it, once (no backlog)', async () => {
    vi.useFakeTimers();
    try {
      let starts = 0;
      let release: (() => void) | undefined;
      const s = startInProcessScheduler(
        {
          repeatable: [
            {
              name: 'overrun',
              everyMs: 40,
              run: async () => {
                starts += 1;
                // the first run overruns many ticks; the others are quick
                if (starts === 1) await new Promise<void>((r) => (release = r));
              },
            },
          ],
          email: async () => undefined,
        },
        { emailConcurrency: 1, retry, logger: testLogger() },
      );
      await vi.advanceTimersByTimeAsync(0);
      expect(starts).toBe(1);
      await vi.advanceTimersByTimeAsync(200); // five ticks while it runs
      expect(starts).toBe(1);
      release!();
      await vi.advanceTimersByTimeAsync(0); // no time passes: the catch-up runs at once
      expect(starts).toBe(2);
      await vi.advanceTimersByTimeAsync(39); // and only once: the next run is the next tick
      expect(starts).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toBe(3);
      await s.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
