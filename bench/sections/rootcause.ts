import { buildTree, criticalPath, findSuspects, layerBreakdown, type BaselineLookup, type OperationBaseline, type SuspectSpanInput } from '@flowscope/query-api';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';
import { normalizeOperation, type Database } from '@flowscope/storage';
import { percentile, round, type BenchContext, type BenchSection } from '../lib/context.ts';
import { benchDatabase } from '../lib/db.ts';
import { BatchTemplate, makeBatch, prng } from '../lib/workload.ts';

/**
 * Root-cause analysis costs (issue #10):
 * - the analysis the workflow and trace answers run (span tree, critical path, layer breakdown,
 *   ranked suspects against baselines) on a 1,000-span workflow: p99 against the issue's 50 ms
 *   target, and against building the tree and serialising the same spans as JSON (what the
 *   answer costs without analysis), measured in the same run;
 * - collector ingest with per-operation baselines (FLOWSCOPE_BASELINES_ENABLED=true, the
 *   default) and without: the collector built in this process (its whole request path: OTLP
 *   protobuf decode, validation, mapping, span metrics, baselines, sampling, the batching
 *   writer to PostgreSQL; no sockets, so load generator processes do not compete for the
 *   cores), 4 requests of 500 spans in flight, at sampling 0.1 (where the per-span cost of
 *   baselines shows most); pairs of runs alternated without/with, with/without, … so drift on
 *   a shared machine cancels, the ratio being the median of the pairs' ratios; spans/s in the
 *   steady state (the folds of pending per-operation rows the collector makes while it runs are
 *   in the time, and `met` needs at least one in every run; the fold at close, a shutdown
 *   cost, is reported as the ratio including close), and the CPU time per span of this process
 *   and of the database's server processes. Target: with ≥ 0.95 × without. Afterwards the database is checked: with baselines every acknowledged span
 *   is counted once in the minute rows and once in the hour rows of operation_stats with
 *   nothing left pending, without none.
 */

const SPANS = 1000;
const SERVICES = ['storefront', 'checkout-api', 'inventory', 'payments', 'orders', 'pricing', 'shipping', 'users'];

/** A 1,000-span checkout: per service a server span with queries, cache calls and nested work, parallel pairs, ms-rounded starts; one INSERT is ~30× slower than usual. */
function bigWorkflow(): { spans: SuspectSpanInput[]; slowSpanId: string } {
  const t0 = 1_780_000_000_000_000; // µs
  const spans: SuspectSpanInput[] = [];
  const add = (parent: string | null, name: string, layer: string, component: string, startMs: number, durMs: number, kind = 1) => {
    const span: SuspectSpanInput = {
      trace_id: 'f'.repeat(32), span_id: (spans.length + 1).toString(16).padStart(16, '0'), parent_span_id: parent, name, layer, component,
      workflow_type: 'checkout', kind, is_error: false, status_message: null, attributes: {}, events: [],
      start_us: t0 + Math.round(startMs) * 1000, // millisecond-rounded starts, as SDKs send them
      end_us: t0 + Math.round((startMs + durMs) * 1000),
    };
    spans.push(span);
    return span;
  };
  const root = add(null, 'POST /checkout', 'api', 'storefront', 0, 0, 2);
  let at = 1;
  let slowSpanId = '';
  for (let s = 0; spans.length < SPANS; s++) {
    const service = SERVICES[s % SERVICES.length]!;
    const server = add(root.span_id, `${service}.handle`, 'service', service, at, 0, 1);
    let t = at + 0.5;
    let pairEnd = t;
    for (let i = 0; i < 12 && spans.length < SPANS; i++) {
      const slow = s === 4 && i === 5;
      const dur = slow ? 90 : i % 3 === 0 ? 2.1 : i % 3 === 1 ? 0.4 : 3.2;
      const name = slow ? 'INSERT shop.orders' : i % 3 === 0 ? `SELECT ${service}.items WHERE id = ${1000 + i}` : i % 3 === 1 ? `GET ${service}:${i}` : `UPDATE ${service}.state`;
      const child = add(server.span_id, name, i % 3 === 1 ? 'cache' : 'database', service, t, dur, 3);
      if (slow) slowSpanId = child.span_id;
      pairEnd = Math.max(pairEnd, (child.end_us - t0) / 1000);
      if (i % 2 === 1) t = pairEnd + 0.3; // calls run in pairs
    }
    server.end_us = t0 + Math.round((pairEnd + 0.5) * 1000);
    at = pairEnd + 1;
  }
  root.end_us = t0 + Math.round((at + 1) * 1000);
  return { spans, slowSpanId };
}

/** Usual durations per operation, as the hour rows of operation_stats would give them. */
function baselinesFor(spans: readonly SuspectSpanInput[]): BaselineLookup {
  const map = new Map<string, OperationBaseline>();
  for (const sp of spans) {
    const op = normalizeOperation(sp.name);
    const usual = op === 'INSERT shop.orders' ? 3 : (sp.end_us - sp.start_us) / 1000;
    map.set(`${sp.layer}\u0000${sp.component}\u0000${op}`, { p50_ms: usual, p95_ms: usual * 1.3 + 0.2, count: 1000 });
  }
  return (_type, layer, component, operation) => map.get(`${layer}\u0000${component}\u0000${operation}`);
}

function analysisRows(ctx: BenchContext): void {
  const iterations = ctx.mode === 'tiny' ? 20 : ctx.mode === 'quick' ? 300 : 1000;
  const { spans, slowSpanId } = bigWorkflow();
  const lookup = baselinesFor(spans);
  const analyse = () => {
    const roots = buildTree(spans);
    const path = criticalPath(roots, 1000);
    const breakdown = layerBreakdown(roots);
    const suspects = findSuspects(roots, path, lookup, { max: 10, toleranceUs: 1000 });
    return { roots, path, breakdown, suspects };
  };
  const plain = () => {
    buildTree(spans);
    return JSON.stringify(spans);
  };
  // warm-up (JIT), then alternate so both see the same machine
  let top = analyse().suspects[0];
  for (let i = 0; i < (ctx.mode === 'tiny' ? 5 : 20); i++) {
    analyse();
    plain();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < iterations; i++) {
    let t = performance.now();
    top = analyse().suspects[0];
    a.push(performance.now() - t);
    t = performance.now();
    plain();
    b.push(performance.now() - t);
  }
  const p99 = percentile(a, 99);
  const base = percentile(b, 99);
  ctx.add({
    section: 'rootcause',
    name: `analysis (critical path + suspects) of a ${SPANS}-span workflow: p99`,
    value: round(p99, 3),
    unit: 'ms',
    baseline: `span tree + JSON of the same ${SPANS} spans (same run, p99 ${round(base, 3)} ms)`,
    ratio: round(p99 / base, 2),
    target: 'p99 < 50 ms',
    met: p99 < 50,
    extra: {
      p50_ms: round(percentile(a, 50), 3),
      iterations,
      ratio_to_target: round(p99 / 50, 3),
      top_suspect_is_injected: top?.span_id === slowSpanId && top.reason === 'slow',
    },
  });
  ctx.log(`analysis of ${SPANS} spans: p99 ${p99.toFixed(2)} ms (tree+JSON ${base.toFixed(2)} ms), top suspect ${top?.operation}`);
}

async function ingestRows(ctx: BenchContext): Promise<void> {
  const seconds = ctx.mode === 'tiny' ? 0.5 : ctx.mode === 'quick' ? 3 : 8;
  const concurrency = 4;
  // Pairs of runs, alternated without/with, with/without, … so drift on a shared machine
  // cancels; the ratio is the median of the pairs' ratios (one busy moment moves one pair).
  const pairs = ctx.mode === 'tiny' ? 1 : ctx.mode === 'quick' ? 5 : 8;
  const order = Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const))).flat();
  const t = await benchDatabase('fs_bench_rootcause');
  const rand = prng(300);
  const templates = Array.from({ length: ctx.mode === 'tiny' ? 2 : 2 * concurrency + 2 }, () => new BatchTemplate(makeBatch(rand, ctx.mode === 'tiny' ? 100 : 500, Date.now())));
  type Run = { rate: number; rateWithClose: number; foldsInRun: number; cpuUsPerSpan: number; dbCpuUsPerSpan: number | null };
  const runs = { with: [] as Run[], without: [] as Run[] };
  const checks = { with: true, without: true };
  const logger = pino({ level: 'silent' });
  try {
    let next = 0;
    for (const mode of order) {
      await t.db.query('TRUNCATE trace_steps, workflow_sessions, performance_snapshots, performance_snapshots_pending, performance_rollups, operation_stats, operation_stats_pending, ingest_receipts, error_logs');
      const db0 = await backendCpuUs(t.db);
      const collector = buildCollector({
        db: t.db,
        config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '0.1', FLOWSCOPE_BASELINES_ENABLED: String(mode === 'with') }),
        logger,
      });
      let acked = 0;
      let run: Run | undefined;
      try {
        // Closed loop: `concurrency` requests of 500 spans (100 in tiny runs) in flight, each acknowledged after its write.
        const load = async (ms: number) => {
          let spans = 0;
          const end = performance.now() + ms;
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (performance.now() < end) {
                const template = templates[next++ % templates.length]!;
                const res = await collector.app.inject({
                  method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: Buffer.from(template.renew()),
                });
                if (res.statusCode !== 200) throw new Error(`collector answered ${res.statusCode}: ${res.body}`);
                spans += template.spanCount;
              }
            }),
          );
          return spans;
        };
        acked += await load(ctx.mode === 'tiny' ? 100 : 1000); // warm-up
        const folds = async () => (await collector.metrics.baselineFolds.get()).values.reduce((n, v) => n + v.value, 0);
        const folds0 = await folds();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const spans = await load(seconds * 1000);
        // Steady state: the timed run pays the folds the collector makes while it runs (one every
        // FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS flushes or FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS; folds
        // completed in the window are counted). The fold at close (what the run left pending) is
        // a shutdown cost, reported separately (rate including close).
        const steadyMs = performance.now() - t0;
        const foldsInRun = (await folds()) - folds0;
        await collector.close();
        const elapsed = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        acked += spans;
        run = { rate: spans / (steadyMs / 1000), rateWithClose: spans / elapsed, foldsInRun, cpuUsPerSpan: (cpu.user + cpu.system) / spans, dbCpuUsPerSpan: null };
      } finally {
        await collector.close();
      }
      // The database's CPU for everything the collector did (warm-up to close, which folds what is pending), per span.
      const db1 = await backendCpuUs(t.db);
      if (db0 && db1) {
        let us = 0;
        for (const [pid, v] of db1) us += v - (db0.get(pid) ?? 0);
        run.dbCpuUsPerSpan = us / acked;
      }
      runs[mode].push(run);
      // After close() the collector has folded what it left pending: every span in the minute
      // rows and in the hour rows, once, and nothing pending.
      const [c] = await t.db.query<{ m: number; h: number; p: number }>(
        `SELECT coalesce(sum(count) FILTER (WHERE bucket_seconds = 60), 0)::float8 AS m, coalesce(sum(count) FILTER (WHERE bucket_seconds = 3600), 0)::float8 AS h,
                (SELECT count(*) FROM operation_stats_pending)::float8 AS p FROM operation_stats`,
      );
      const [m, h, p] = [Number(c!.m), Number(c!.h), Number(c!.p)];
      checks[mode] &&= p === 0 && (mode === 'with' ? m === acked && h === acked : m === 0 && h === 0);
    }
  } finally {
    await t.dispose();
  }
  const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
  const withRate = mean(runs.with.map((r) => r.rate));
  const without = mean(runs.without.map((r) => r.rate));
  const pairRatios = runs.with.map((r, i) => r.rate / runs.without[i]!.rate);
  const ratio = percentile(pairRatios, 50);
  const ratioWithClose = percentile(runs.with.map((r, i) => r.rateWithClose / runs.without[i]!.rateWithClose), 50);
  const foldsPerRun = runs.with.map((r) => r.foldsInRun);
  const cpuWith = mean(runs.with.map((r) => r.cpuUsPerSpan));
  const cpuWithout = mean(runs.without.map((r) => r.cpuUsPerSpan));
  const dbCpu = (rs: Run[]) => (rs.every((r) => r.dbCpuUsPerSpan !== null) ? percentile(rs.map((r) => r.dbCpuUsPerSpan!), 50) : NaN);
  const dbWith = dbCpu(runs.with);
  const dbWithout = dbCpu(runs.without);
  ctx.add({
    section: 'rootcause',
    name: 'ingest with per-operation baselines: spans/s (collector in process, OTLP protobuf, sampling 0.1)',
    value: Math.round(withRate),
    unit: 'spans/s',
    baseline: `the same with FLOWSCOPE_BASELINES_ENABLED=false (same run, ${Math.round(without)} spans/s)`,
    ratio: round(ratio, 3),
    target: '≥ 0.95 of without (cost within 5 %)',
    // met only where every run with baselines paid at least one fold (the steady state's cost)
    met: ratio >= 0.95 && (ctx.mode === 'tiny' || foldsPerRun.every((n) => n >= 1)),
    extra: {
      runs_each: runs.with.length,
      pair_ratios: pairRatios.map((r) => round(r, 3)).join(' '),
      ratio_of_means: round(withRate / without, 3),
      ratio_including_close: round(ratioWithClose, 3),
      folds_in_runs_with: foldsPerRun.join(' '),
      seconds_each: seconds,
      cpu_us_per_span_with: round(cpuWith, 2),
      cpu_us_per_span_without: round(cpuWithout, 2),
      cpu_ratio: round(cpuWith / cpuWithout, 3),
      db_cpu_us_per_span_with: round(dbWith, 2),
      db_cpu_us_per_span_without: round(dbWithout, 2),
      db_cpu_ratio: round(dbWith / dbWithout, 3),
      operation_stats_exact_with: checks.with,
      operation_stats_empty_without: checks.without,
    },
  });
  ctx.log(`ingest with baselines ${Math.round(withRate)} spans/s, without ${Math.round(without)} spans/s (median pair ratio ${ratio.toFixed(3)}, with the fold at close ${ratioWithClose.toFixed(3)}, folds per run ${foldsPerRun.join(' ')}, pairs ${pairRatios.map((r) => r.toFixed(2)).join(' ')}; CPU per span: collector ×${(cpuWith / cpuWithout).toFixed(3)}, database ×${(dbWith / dbWithout).toFixed(3)})`);
}

/**
 * CPU time (µs) of the database's server processes of this database, by pid, from /proc (the
 * database runs on this machine in the benchmarks); undefined where /proc does not show them.
 */
async function backendCpuUs(db: Database): Promise<Map<number, number> | undefined> {
  const rows = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // Fields after the command name: state is field 3, utime 14, stime 15 (clock ticks, 100 a second).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(pid), (Number(f[11]) + Number(f[12])) * 10_000);
  }
  return out;
}

export const rootcauseSection: BenchSection = {
  name: 'rootcause',
  async run(ctx: BenchContext) {
    analysisRows(ctx);
    await ingestRows(ctx);
  },
};
