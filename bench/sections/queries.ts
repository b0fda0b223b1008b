import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseConfig } from '@flowscope/common';
import { BUCKET_COUNT, copyLine, ensurePartitions, migrate, nanosToIso, openPostgres, rebuildRollups, SPAN_COLUMNS, spanValues, type Database } from '@flowscope/storage';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';
import { percentile, round, type BenchContext, type BenchSection } from '../lib/context.ts';
import { benchDatabase, workloadRecords } from '../lib/db.ts';
import { prng, SERVICES, WORKFLOW_TYPES } from '../lib/workload.ts';

const DAY_MS = 86_400_000;
const CHUNK_SPANS = 20_000;
const SESSION_COLUMNS = ['workflow_id', 'workflow_type', 'status', 'user_id', 'first_trace_id', 'started_at', 'ended_at', 'span_count', 'error_count', 'keep'];

interface PoolSpan {
  line: string;
  startOffsetMs: number;
  endOffsetMs: number;
}
interface PoolTrace {
  traceId: string;
  type: string;
  user: string | null;
  spans: PoolSpan[];
  durationMs: number;
  errors: number;
}

const START = '\u0001S\u0001';
const END = '\u0001E\u0001';

/**
 * Loads `total` spans spread over the last 24 hours by COPY on two connections: a pool of
 * workload traces (mapped by the collector's stages, so the rows are what it stores) is
 * repeated with new trace ids and times. One workflow session per trace, and 24 hours of
 * minute snapshots for every workflow type × layer × component.
 */
async function load(ctx: BenchContext, db: Database, total: number, now: number): Promise<{ traceIds: string[]; loadSeconds: number }> {
  const rand = prng(7);
  const records = workloadRecords(rand, Math.min(20_000, total));
  const byTrace = new Map<string, typeof records>();
  for (const r of records) {
    const list = byTrace.get(r.traceId) ?? [];
    list.push(r);
    byTrace.set(r.traceId, list);
  }
  const pool: PoolTrace[] = [];
  for (const [traceId, spans] of byTrace) {
    const t0 = spans.reduce((m, s) => (s.startUnixNano < m ? s.startUnixNano : m), spans[0]!.startUnixNano);
    const t1 = spans.reduce((m, s) => (s.endUnixNano > m ? s.endUnixNano : m), spans[0]!.endUnixNano);
    pool.push({
      traceId,
      type: spans[0]!.workflowType,
      user: spans[0]!.userId,
      durationMs: Number(t1 - t0) / 1e6,
      errors: spans.filter((s) => s.isError).length,
      spans: spans.map((s) => {
        const v = spanValues(s);
        v[SPAN_COLUMNS.indexOf('start_time')] = START;
        v[SPAN_COLUMNS.indexOf('end_time')] = END;
        return { line: copyLine(v), startOffsetMs: Number(s.startUnixNano - t0) / 1e6, endOffsetMs: Number(s.endUnixNano - t0) / 1e6 };
      }),
    });
  }
  const sample: string[] = [];
  let made = 0;
  let seq = 0;
  const nextChunk = (): { spans: string[]; sessions: string[] } | undefined => {
    if (made >= total) return undefined;
    const spans: string[] = [];
    const sessions: string[] = [];
    while (spans.length < CHUNK_SPANS && made < total) {
      const p = pool[seq % pool.length]!;
      const id = (seq++).toString(16).padStart(8, '0') + p.traceId.slice(8);
      if (seq % 97 === 0) sample.push(id);
      const startMs = now - Math.floor(rand() * (DAY_MS - 60_000)) - 60_000;
      for (const s of p.spans) {
        spans.push(
          s.line
            .replaceAll(p.traceId, id)
            .replace(START, nanosToIso(BigInt(Math.round((startMs + s.startOffsetMs) * 1000)) * 1000n))
            .replace(END, nanosToIso(BigInt(Math.round((startMs + s.endOffsetMs) * 1000)) * 1000n)),
        );
      }
      made += p.spans.length;
      sessions.push(
        copyLine([`wf-${id}`, p.type, p.errors > 0 ? 'failed' : 'completed', p.user, id, new Date(startMs).toISOString(), new Date(startMs + p.durationMs).toISOString(), p.spans.length, p.errors, true]),
      );
    }
    return { spans, sessions };
  };
  let lastLog = Date.now();
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      for (let c = nextChunk(); c; c = nextChunk()) {
        const chunk = c;
        await db.transaction(async (tx) => {
          await tx.copyIn('trace_steps', SPAN_COLUMNS, chunk.spans, () => []);
          await tx.copyIn('workflow_sessions', SESSION_COLUMNS, chunk.sessions, () => []);
        });
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          ctx.log(`loaded ${made.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} spans`);
        }
      }
    }),
  );
  const loadSeconds = (performance.now() - t0) / 1000;
  // 24 hours of minute snapshots, every workflow type × layer × component (as the collector derives
  // them from this workload); two hours only for the harness test's tiny database.
  const hours = total < 100_000 ? 2 : 24;
  await db.query(
    `INSERT INTO performance_snapshots (bucket_start, workflow_type, layer, component, metric, count, error_count, sum, min, max, buckets)
     SELECT m, t, l, c, 'duration_ms', 40, 1, 40 * 12.5, 0.4, 180,
            (SELECT array_agg(CASE WHEN i BETWEEN 10 AND 14 THEN 8 ELSE 0 END::bigint ORDER BY i) FROM generate_series(1, $1::int) i)
       FROM generate_series(date_trunc('minute', $2::timestamptz) - make_interval(hours => $5::int), date_trunc('minute', $2::timestamptz), interval '1 minute') m,
            unnest($3::text[]) t, unnest(ARRAY['api', 'service', 'database', 'cache', 'external']) l, unnest($4::text[]) c
      WHERE (l = 'api') = (c = 'api-gateway')`,
    [BUCKET_COUNT, new Date(now).toISOString(), [...WORKFLOW_TYPES], SERVICES.slice(1), hours],
  );
  const hourMs = 3_600_000;
  await rebuildRollups(db, new Date((Math.floor(now / hourMs) - hours - 1) * hourMs).toISOString(), new Date((Math.floor(now / hourMs) + 1) * hourMs).toISOString());
  await settle(db);
  return { traceIds: sample, loadSeconds };
}

/**
 * The state a deployment's autovacuum keeps a table in (on by default; since PostgreSQL 13 it also
 * vacuums after inserts): visibility map set, so counts can be index-only, GIN pending lists
 * merged, statistics fresh. The test server runs with autovacuum off, so the bench vacuums once
 * after loading (on a reused database, only what changed since).
 */
async function settle(db: Database): Promise<void> {
  await db.query('VACUUM (ANALYZE)');
}

/** A kept query database (BENCH_KEEP_DB=1), migrated to the current schema; never dropped. */
async function reusedDatabase(url: string): Promise<{ url: string; db: Database; dispose(): Promise<void> }> {
  const db = openPostgres({ url, maxConnections: 4 });
  await migrate(db);
  await ensurePartitions(db);
  await settle(db);
  return { url, db, dispose: () => db.close() };
}

/** What a reused database holds: its span count, the time it was loaded up to, and a sample of trace ids. */
async function describe(db: Database): Promise<{ now: number; traceIds: string[]; total: number }> {
  const [r] = await db.query<{ now: number }>(`SELECT (extract(epoch FROM max(bucket_start)) * 1000 + 60000)::float8 AS now FROM performance_snapshots`);
  const ids = await db.query<{ trace_id: string }>(`SELECT DISTINCT trace_id FROM trace_steps TABLESAMPLE SYSTEM (1) LIMIT 2000`);
  const [c] = await db.query<{ n: string }>(`SELECT sum(span_count)::float8 AS n FROM workflow_sessions`);
  return { now: Number(r!.now), traceIds: ids.map((i) => i.trace_id), total: Number(c!.n) };
}

const TARGETS_MS: Record<string, number> = {
  'trace by id': 10,
  'workflow by correlation id, with analysis': 50,
  'workflow search by type and time': 100,
  'Jaeger search by service and tag': 200,
  'Jaeger search by service and rare tag': 200,
  'Jaeger search by service and common tag': 200,
  '24-hour performance series': 200,
};

/**
 * Queries on a database of 1M (and, in full mode, 10M) spans, through the query API's own
 * routes (in-process, app.inject: routing, auth, SQL, shaping, JSON), p50/p99 against the
 * issue's targets.
 */
export const querySection: BenchSection = {
  name: 'queries',
  async run(ctx) {
    // BENCH_QUERY_SPANS overrides the sizes; BENCH_KEEP_DB=1 keeps the database for EXPLAIN;
    // BENCH_QUERY_DB=<url> reuses such a kept database (migrated to the current schema, not reloaded).
    const reuse = process.env.BENCH_QUERY_DB;
    const sizes = reuse ? [0] : process.env.BENCH_QUERY_SPANS ? [Number(process.env.BENCH_QUERY_SPANS)] : ctx.sizes.querySpans;
    for (let total of sizes) {
      const t = reuse ? await reusedDatabase(reuse) : await benchDatabase('fs_bench_queries', 4);
      try {
        let now = Date.now();
        let traceIds: string[];
        if (reuse) {
          ({ now, traceIds, total } = await describe(t.db));
        } else {
          const loaded = await load(ctx, t.db, total, now);
          traceIds = loaded.traceIds;
          const { loadSeconds } = loaded;
          const copy2 = ctx.find('copy', 'COPY into indexed trace_steps, 2 connections');
          ctx.add({
          section: 'queries',
          name: `load ${total.toLocaleString('en-US')} spans by COPY (with sessions)`,
          value: total / loadSeconds,
          unit: 'spans/s',
          baseline: copy2 ? 'COPY, 2 connections' : 'none (copy section not run)',
          ratio: copy2 ? total / loadSeconds / copy2.value : null,
          extra: { seconds: round(loadSeconds, 1) },
          });
        }
        const app = await buildQueryApi({
          db: t.db,
          config: parseConfig(queryApiConfigShape, { FLOWSCOPE_RATE_LIMIT_MAX: '1000000' }),
          logger: pino({ level: 'silent' }),
        });
        await app.ready();
        const { token } = await createToken(t.db, { name: 'bench', role: 'viewer' });
        const headers = { authorization: `Bearer ${token}` };
        // Users of some workflows: an `enduser.id` is on every span of its traces, and one user has
        // about total / 20,000 traces over the 24 hours (a few an hour at 1M spans): a rare tag.
        // A 5 % page sample (cheap at 1M spans) can hold no page at all on a small table (--tiny):
        // then the users are read without sampling.
        const sampleUsers = async (sample: string) =>
          (await t.db.query<{ user_id: string }>(`SELECT DISTINCT user_id FROM workflow_sessions ${sample} WHERE user_id IS NOT NULL LIMIT 500`)).map(
            (r) => r.user_id,
          );
        let users = await sampleUsers('TABLESAMPLE SYSTEM (5)');
        if (users.length === 0) users = await sampleUsers('');
        if (users.length === 0) throw new Error('no user ids in workflow_sessions for the rare-tag search');
        const rand = prng(11);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
        const hourAgo = () => new Date(now - Math.floor(rand() * 23 * 3_600_000) - 3_600_000);
        const jaeger = (service: string, tags: Record<string, string>) => {
          const from = hourAgo();
          return `/jaeger/api/traces?service=${service}&tags=${encodeURIComponent(JSON.stringify(tags))}&start=${from.getTime() * 1000}&end=${(from.getTime() + 3_600_000) * 1000}&limit=20`;
        };
        const urls: Record<string, () => string> = {
          'trace by id': () => `/api/v1/debugging/traces/${pick(traceIds)}`,
          'workflow by correlation id, with analysis': () => `/api/v1/debugging/workflows/wf-${pick(traceIds)}`,
          'workflow search by type and time': () => {
            const from = hourAgo();
            return `/api/v1/debugging/workflows?workflow_type=${pick(WORKFLOW_TYPES)}&from=${from.toISOString()}&to=${new Date(from.getTime() + 3_600_000).toISOString()}&limit=50`;
          },
          // About 3 % of the gateway's spans (the failing traces).
          'Jaeger search by service and tag': () => jaeger('api-gateway', { 'http.response.status_code': '500' }),
          // A user's traces: a handful in the hour (or none), among thousands of the service's spans.
          'Jaeger search by service and rare tag': () => jaeger('api-gateway', { 'enduser.id': pick(users) }),
          // Most database spans of a back-end service (several spans of each trace).
          'Jaeger search by service and common tag': () => jaeger(pick(SERVICES.slice(2)), { 'db.system': 'postgresql' }),
          '24-hour performance series': () =>
            `/api/v1/debugging/performance?workflow_type=${pick(WORKFLOW_TYPES)}&from=${new Date(now - DAY_MS).toISOString()}&to=${new Date(now).toISOString()}&step=300`,
        };
        try {
          for (const [name, url] of Object.entries(urls)) {
            const times: number[] = [];
            let traces = 0;
            for (let i = 0; i < ctx.sizes.queryIterations + 3; i++) {
              const u = url();
              const t0 = performance.now();
              const res = await app.inject({ method: 'GET', url: u, headers });
              const ms = performance.now() - t0;
              if (res.statusCode !== 200) throw new Error(`${name}: GET ${u} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
              if (i >= 3) {
                times.push(ms); // the first few warm caches up
                if (name.startsWith('Jaeger')) traces += (JSON.parse(res.body) as { data: unknown[] }).data.length;
              }
            }
            const p99 = percentile(times, 99);
            const target = TARGETS_MS[name]!;
            ctx.add({
              section: 'queries',
              name: `${(total / 1e6).toFixed(total < 1e6 ? 2 : 0)}M spans: ${name} p99`,
              value: p99,
              unit: 'ms',
              baseline: `target ${target} ms`,
              ratio: p99 / target,
              target: `< ${target} ms`,
              met: p99 < target,
              extra: {
                p50_ms: round(percentile(times, 50), 1),
                requests: times.length,
                ...(name.startsWith('Jaeger') ? { traces_per_answer: round(traces / times.length, 1) } : {}),
              },
            });
          }
        } finally {
          await app.close();
        }
      } finally {
        if (process.env.BENCH_KEEP_DB === '1' || reuse) {
          ctx.log(`kept ${t.url}`);
          await t.db.close();
        } else await t.dispose();
      }
    }
  },
};
