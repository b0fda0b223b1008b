import { round, percentile, type BenchContext, type BenchSection } from '../lib/context.ts';
import { benchDatabase } from '../lib/db.ts';
import { LoadGenerator, startCollector } from '../lib/processes.ts';
import type { LoadResult } from '../loadgen.ts';

const SPANS_PER_BATCH = 500;

interface Phase {
  spans: number;
  seconds: number;
  latencies: number[];
  refused: Record<string, number>;
}

async function phase(gens: LoadGenerator[], command: Record<string, unknown>): Promise<Phase> {
  const results = await Promise.all(gens.map((g) => g.request<LoadResult>({ cmd: 'run', ...command })));
  const refused: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.refused)) refused[k] = (refused[k] ?? 0) + v;
  return {
    spans: results.reduce((n, r) => n + r.spans, 0),
    seconds: Math.max(...results.map((r) => r.elapsedMs)) / 1000,
    latencies: results.flatMap((r) => r.latenciesMs),
    refused,
  };
}

/**
 * Ingest through the real collector process over loopback: load generators in their own
 * processes send OTLP protobuf batches of 500 spans (HTTP, then gRPC), at sampling 1.0 and 0.1.
 * Per configuration: a fresh collector, 1 s warm-up, the closed-loop sustained rate, then half as
 * long at 80 % of that rate for acknowledgement latency, and the collector's peak RSS. Afterwards
 * the database is checked: every acknowledged span counted once in workflow_sessions and in
 * performance_snapshots (statistics exact under sampling), and at 1.0 every span stored.
 */
export const ingestSection: BenchSection = {
  name: 'ingest',
  async run(ctx: BenchContext) {
    const { ingestSeconds, loadProcesses, loadConcurrency } = ctx.sizes;
    const copy2 = ctx.find('copy', 'COPY into indexed trace_steps, 2 connections');
    const t = await benchDatabase('fs_bench_ingest');
    const gens = Array.from({ length: loadProcesses }, () => new LoadGenerator());
    try {
      await Promise.all(gens.map((g, i) => g.request({ cmd: 'prepare', seed: 100 + i, templates: 2 * loadConcurrency + 2, spansPerBatch: SPANS_PER_BATCH })));
      // The harness test (tiny) runs one configuration per transport, each at one sampling rate.
      const configs = ctx.mode === 'tiny' ? [['http', 1], ['grpc', 0.1]] as const : (['http', 'grpc'] as const).flatMap((tr) => [[tr, 1], [tr, 0.1]] as const);
      {
        for (const [transport, rate] of configs) {
          const label = `${transport === 'http' ? 'OTLP/HTTP' : 'OTLP/gRPC'} sampling ${rate.toFixed(1)}`;
          await t.db.query('TRUNCATE trace_steps, workflow_sessions, performance_snapshots, performance_snapshots_pending, performance_rollups, ingest_receipts, error_logs');
          const collector = await startCollector({ DATABASE_URL: t.url, DEBUGGING_TRACE_SAMPLING_RATE: String(rate) });
          let peak = NaN;
          let sustained: Phase;
          let paced: Phase;
          let warm: Phase;
          try {
            const target = transport === 'http' ? `${collector.httpUrl}/v1/traces` : collector.grpcTarget;
            const base = { transport, target, concurrency: loadConcurrency };
            warm = await phase(gens, { ...base, durationMs: 1000 });
            sustained = await phase(gens, { ...base, durationMs: ingestSeconds * 1000 });
            const rateAt80 = (0.8 * sustained.spans) / sustained.seconds;
            paced = await phase(gens, { ...base, durationMs: (ingestSeconds * 1000) / 2, ratePerSecond: rateAt80 / gens.length });
          } finally {
            peak = (await collector.stop()).peakRssMb;
          }
          const acked = warm.spans + sustained.spans + paced.spans;
          const [counts] = await t.db.query<{ sessions: number; snapshots: number; stored: number }>(
            `SELECT (SELECT coalesce(sum(span_count), 0)::float8 FROM workflow_sessions) AS sessions,
                    (SELECT coalesce(sum(count), 0)::float8 FROM performance_snapshots WHERE metric = 'duration_ms') AS snapshots,
                    (SELECT count(*)::float8 FROM trace_steps) AS stored`,
          );
          const exact = counts!.sessions === acked && counts!.snapshots === acked;
          const spansPerSecond = sustained.spans / sustained.seconds;
          const refused = Object.entries({ ...sustained.refused }).map(([k, v]) => `${k}:${v}`).join(',') || 'none';
          ctx.add({
            section: 'ingest',
            name: `${label}: ${rate === 1 ? 'stored' : 'received'} spans/s (${gens.length}×${loadConcurrency} in flight)`,
            value: spansPerSecond,
            unit: 'spans/s',
            baseline: copy2 ? 'COPY, 2 connections' : 'none (copy section not run)',
            ratio: copy2 ? spansPerSecond / copy2.value : null,
            ...(rate === 1
              ? { target: '≥ 0.70 of COPY ×2', met: copy2 ? spansPerSecond / copy2.value >= 0.7 : null }
              : { target: '≥ 100,000 spans/s', met: spansPerSecond >= 100_000 }),
            extra: {
              'ack_p50_ms': round(percentile(sustained.latencies, 50), 1),
              'ack_p99_ms': round(percentile(sustained.latencies, 99), 1),
              refused,
              'stored_share': round(counts!.stored / acked, 3),
              'sessions_and_snapshots_exact': exact,
            },
          });
          const p99 = percentile(paced.latencies, 99);
          ctx.add({
            section: 'ingest',
            name: `${label}: ack p99 at 80 % of sustained`,
            value: p99,
            unit: 'ms',
            baseline: 'target 250 ms',
            ratio: p99 / 250,
            target: '< 250 ms',
            met: p99 < 250,
            extra: { 'p50_ms': round(percentile(paced.latencies, 50), 1), 'offered_spans/s': Math.round((0.8 * sustained.spans) / sustained.seconds), 'acked_spans/s': Math.round(paced.spans / paced.seconds) },
          });
          ctx.add({
            section: 'ingest',
            name: `${label}: collector peak RSS`,
            value: peak,
            unit: 'MB',
            baseline: 'target 512 MB',
            ratio: peak / 512,
            target: '< 512 MB',
            met: Number.isFinite(peak) ? peak < 512 : null,
          });
          ctx.log(`${label}: ${Math.round(spansPerSecond)} spans/s, p99 at 80 % ${p99.toFixed(0)} ms, RSS ${peak.toFixed(0)} MB, exact ${exact}`);
        }
      }
    } finally {
      await Promise.all(gens.map((g) => g.exit()));
      await t.dispose();
    }
  },
};
