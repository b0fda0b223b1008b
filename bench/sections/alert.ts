import { performance } from 'node:perf_hooks';
import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';
import { alertingConfig, startAlerting } from '@flowscope/alerting';
import { percentile, round, type BenchSection } from '../lib/context.ts';
import { benchDatabase } from '../lib/db.ts';
import { makeBatch, prng, serialize } from '../lib/workload.ts';

const SLOW_DB_MS = 350; // over DEBUGGING_DB_QUERY_TIME_CRITICAL (100 ms): the seeded database p95 rule goes critical

/** Workload traces whose PostgreSQL spans all take SLOW_DB_MS. */
function breachingBody(seed: number): Buffer {
  const traces = makeBatch(prng(seed), 200, Date.now());
  for (const t of traces) {
    t.spans = t.spans.map((s): ReadableSpan => {
      if (s.attributes['db.system'] !== 'postgresql') return s;
      const start = s.startTime[0] * 1000 + s.startTime[1] / 1e6;
      const end = start + SLOW_DB_MS;
      return { ...s, endTime: [Math.floor(end / 1000), Math.round((end % 1000) * 1e6)], duration: [0, SLOW_DB_MS * 1e6] };
    });
  }
  return serialize(traces);
}

/**
 * Alert latency: a running alerting worker (in-process scheduler, evaluation every
 * alertIntervalSeconds) and collector; a batch of breaching spans is acknowledged at a random
 * phase of the evaluation tick; the time until the alert email is accepted by a real in-process
 * SMTP server. Target: under two evaluation intervals. p50 over several runs, each on a fresh
 * database.
 */
export const alertSection: BenchSection = {
  name: 'alert',
  async run(ctx) {
    const intervalMs = ctx.sizes.alertIntervalSeconds * 1000;
    const latencies: number[] = [];
    for (let run = 0; run < ctx.sizes.alertRuns; run++) {
      const t = await benchDatabase('fs_bench_alert');
      let accepted: (() => void) | undefined;
      const mail = new Promise<number>((resolve) => {
        accepted = () => resolve(performance.now());
      });
      const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData: (stream, _session, cb) => {
          stream.resume();
          stream.on('end', () => {
            cb();
            accepted?.();
          });
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
      const logger = pino({ level: 'silent' });
      const collector = buildCollector({ db: t.db, config: parseConfig(collectorConfigShape, {}), logger });
      const alerting = await startAlerting({
        db: t.db,
        config: alertingConfig({
          FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: String(ctx.sizes.alertIntervalSeconds),
          FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: '3600',
          FLOWSCOPE_ALERTING_METRICS_PORT: '0',
          FLOWSCOPE_ALERT_EMAIL_TO: 'oncall@example.com',
          EMAIL_HOST: '127.0.0.1',
          EMAIL_PORT: String((smtp.server.address() as AddressInfo).port),
        }),
        logger,
      });
      try {
        await new Promise((r) => setTimeout(r, intervalMs * (1 + Math.random()))); // a random phase of the tick
        const res = await collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: breachingBody(run + 1) });
        if (res.statusCode !== 200) throw new Error(`breaching spans answered ${res.statusCode}: ${res.body}`);
        const acked = performance.now();
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no alert email within 30 intervals')), 30 * intervalMs + 10_000).unref());
        latencies.push((await Promise.race([mail, timeout])) - acked);
      } finally {
        await alerting.close();
        await collector.close();
        await new Promise<void>((resolve) => smtp.close(() => resolve()));
        await t.dispose();
      }
    }
    const p50 = percentile(latencies, 50);
    ctx.add({
      section: 'alert',
      name: `breaching span acknowledged → email accepted (p50 of ${latencies.length})`,
      value: p50,
      unit: 'ms',
      baseline: `evaluation interval ${intervalMs} ms`,
      ratio: p50 / intervalMs,
      target: '< 2 intervals',
      met: p50 < 2 * intervalMs,
      extra: { max_ms: round(Math.max(...latencies), 0), runs: latencies.length },
    });
  },
};
