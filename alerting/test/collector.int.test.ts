import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { startAlerting, type AlertingHandle } from '../src/index.ts';
import { cleanRedisPrefix, REDIS_URL, TestSmtp, testConfig, testLogger, uniquePrefix, waitFor, evaluationsPassed } from './helpers.ts';

/**
 * End to end: slow database spans sent to the real collector become performance_snapshots
 * (its span metrics, from every span), which the alerting worker on BullMQ turns into exactly
 * one critical email; fast spans later (clock moved on) make one resolved email.
 */

function dbSpans(count: number, durationMs: number, endMs: number) {
  const traceId = randomBytes(16).toString('hex');
  const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
  return {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'orders')] },
        scopeSpans: [
          {
            scope: { name: 'alerting-test' },
            spans: Array.from({ length: count }, (_, i) => {
              const end = BigInt(endMs - i) * 1_000_000n;
              return {
                traceId,
                spanId: randomBytes(8).toString('hex'),
                name: 'SELECT orders',
                kind: 3,
                startTimeUnixNano: String(end - BigInt(Math.round(durationMs * 1_000_000))),
                endTimeUnixNano: String(end),
                attributes: [str('db.system', 'postgresql'), str('workflow.type', 'checkout'), str('workflow.id', `wf-${traceId}`)],
                status: {},
              };
            }),
          },
        ],
      },
    ],
  };
}

describe('collector span metrics → alert email', () => {
  let collector: Collector | undefined;
  let alerting: AlertingHandle | undefined;
  let dispose: (() => Promise<void>) | undefined;
  const smtp = new TestSmtp();
  const prefix = uniquePrefix();
  afterEach(async () => {
    await alerting?.close();
    await collector?.close();
    await smtp.stop();
    await dispose?.();
    await cleanRedisPrefix(prefix);
  });

  it('slow database spans sent through the collector make exactly one critical email, and recovery one resolved email', async () => {
    const t = await openTestDatabase('postgres');
    dispose = t.dispose;
    await smtp.start();
    const logger = testLogger();
    let offset = 0;
    const clock = () => Date.now() + offset;
    collector = buildCollector({ db: t.db, config: parseConfig(collectorConfigShape, {}), logger });
    const send = async (body: unknown) => {
      const res = await collector!.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(res.statusCode).toBe(200);
    };
    await send(dbSpans(30, 350, Date.now()));

    alerting = await startAlerting({
      db: t.db,
      config: testConfig({ EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), FLOWSCOPE_QUEUE_PREFIX: prefix }),
      logger,
      redisUrl: REDIS_URL,
      clock,
    });
    const mail = await waitFor(() => smtp.received[0], 'the critical email');
    expect(mail.subject).toMatch(/^\[flowscope\] CRITICAL: checkout \/ database p95 latency 3\d\d ms ≥ 100 ms$/);
    expect(mail.text).toContain('Workflow type: checkout');

    // The breach continues through more evaluations: still one email.
    await send(dbSpans(30, 350, Date.now()));
    await waitFor(() => evaluationsPassed(alerting!, 5), 'five evaluations');
    expect(smtp.received).toHaveLength(1);

    // Ten minutes on, the checkout queries are fast again: one resolved email.
    offset += 10 * 60_000;
    await send(dbSpans(30, 3, clock()));
    const resolved = await waitFor(() => smtp.received[1], 'the resolved email');
    expect(resolved.subject).toMatch(/^\[flowscope\] RESOLVED \(was CRITICAL\): checkout \/ database/);
    expect(smtp.received).toHaveLength(2);
  });
});
