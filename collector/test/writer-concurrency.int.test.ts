import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '@flowscope/common';
import {
  emptyBuckets, foldPendingSnapshots, openPostgres, snapshotsWithPending, type Database, type SnapshotDelta, type SpanObservation, type SpanRecord,
} from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { collectorConfigProblems, collectorConfigShape } from '../src/config.ts';
import { createCollectorMetrics, type CollectorMetrics } from '../src/metrics.ts';
import { GroupCommitWriter, type ItemResult, type WriteItem } from '../src/writer.ts';
import { PgProxy } from './helpers.ts';

// Issue 12: FLOWSCOPE_WRITER_CONCURRENCY flush transactions in flight at once. The promises of
// the single-flush writer hold: a request is answered after its commit, counted exactly once
// (even when its two copies are in two concurrent flushes), refused while storage is down.
const MIN = 60_000;
const T0 = Math.floor(Date.now() / MIN) * MIN - 5 * MIN;

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * A request of `n` spans of workflow `wf` (the first a root), every span observed and counted
 * under the snapshot key (`component`, minute `minute`); `kept` of them stored.
 */
function request(wf: string, n: number, receipt: string, opts: { component?: string; minute?: number; kept?: number; seed?: number } = {}): WriteItem {
  const component = opts.component ?? 'gw';
  const minute = opts.minute ?? 0;
  const observations: SpanObservation[] = [];
  const spans: SpanRecord[] = [];
  const traceId = hex(opts.seed ?? 0, 8).padEnd(32, 'a');
  for (let i = 0; i < n; i++) {
    const start = BigInt(T0 + minute * MIN + i) * 1_000_000n;
    const kept = i < (opts.kept ?? 0);
    observations.push({ workflowId: wf, workflowType: 'checkout', userId: null, traceId, startUnixNano: start, endUnixNano: start + 1_000_000n, isError: false, isRoot: i === 0, kept });
    if (kept) {
      spans.push({
        traceId, spanId: hex((opts.seed ?? 0) * 1000 + i, 16), parentSpanId: i === 0 ? null : hex((opts.seed ?? 0) * 1000, 16), workflowId: wf, workflowType: 'checkout',
        layer: 'api', component, name: 'GET /x', kind: 2, statusCode: 0, statusMessage: null, isError: false, startUnixNano: start, endUnixNano: start + 1_000_000n,
        userId: null, scopeName: null, attributes: {}, resource: {}, events: [], links: [],
      });
    }
  }
  const buckets = emptyBuckets();
  buckets[3] = n;
  const delta: SnapshotDelta = { bucketStartMs: T0 + minute * MIN, workflowType: 'checkout', layer: 'api', component, metric: 'duration_ms', count: n, errorCount: 0, sum: n, min: 1, max: 1, buckets };
  return { spans, errors: [], observations, deltas: [delta], receipt };
}

const silent = pino({ level: 'silent' });
const options = (concurrency: number, extra: Partial<ConstructorParameters<typeof GroupCommitWriter>[1]> = {}) => ({
  maxBatchSpans: 10_000, maxQueueSpans: 100_000, lingerMs: 0, retryAfterSeconds: 1, foldIntervalMs: 0, concurrency, ...extra,
});
const metricValue = async (m: CollectorMetrics['writeRetries'], code: string) => (await m.get()).values.find((v) => v.labels.code === code)?.value ?? 0;

/** Settled state of a promise, without waiting for it. */
function track<T>(p: Promise<T>) {
  const s: { done: boolean; value?: T; error?: unknown; promise: Promise<T> } = { done: false, promise: p };
  p.then((v) => Object.assign(s, { done: true, value: v }), (e: unknown) => Object.assign(s, { done: true, error: e }));
  return s;
}

describe('FLOWSCOPE_WRITER_CONCURRENCY: the setting', () => {
  it('defaults to 2, accepts 1..64 and refuses the rest with an error naming it', () => {
    expect(parseConfig(collectorConfigShape, {}).FLOWSCOPE_WRITER_CONCURRENCY).toBe(2);
    expect(parseConfig(collectorConfigShape, { FLOWSCOPE_WRITER_CONCURRENCY: '1' }).FLOWSCOPE_WRITER_CONCURRENCY).toBe(1);
    expect(parseConfig(collectorConfigShape, { FLOWSCOPE_WRITER_CONCURRENCY: '64' }).FLOWSCOPE_WRITER_CONCURRENCY).toBe(64);
    for (const bad of ['0', '65', '-1', '2.5', 'four']) {
      expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_WRITER_CONCURRENCY: bad })).toThrow(/FLOWSCOPE_WRITER_CONCURRENCY/);
    }
    expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_WRITER_CONCURRENCY: '65' })).toThrow(/between 1 and 64/);
  });

  it('needs fewer flushes than PostgreSQL connections (one is left for folds, probes and reads); PGlite has no such bound', () => {
    const url = 'postgres://u@h/db';
    expect(collectorConfigProblems({ DATABASE_URL: url, FLOWSCOPE_DB_POOL_SIZE: 4, FLOWSCOPE_WRITER_CONCURRENCY: 3 })).toEqual([]);
    const [problem, ...rest] = collectorConfigProblems({ DATABASE_URL: url, FLOWSCOPE_DB_POOL_SIZE: 4, FLOWSCOPE_WRITER_CONCURRENCY: 4 });
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^FLOWSCOPE_WRITER_CONCURRENCY: 4 flushes .* at least 5 PostgreSQL connections .* FLOWSCOPE_DB_POOL_SIZE is 4/);
    expect(collectorConfigProblems({ DATABASE_URL: undefined, FLOWSCOPE_DB_POOL_SIZE: 1, FLOWSCOPE_WRITER_CONCURRENCY: 8 })).toEqual([]);
  });

  it('the writer itself refuses a concurrency out of bounds', () => {
    const db = {} as Database;
    for (const c of [0, 65, 1.5]) {
      expect(() => new GroupCommitWriter(db, options(c), createCollectorMetrics(), silent)).toThrow(/writer concurrency must be an integer between 1 and 64/);
    }
  });
});

describe.each(['postgres', 'pglite'] as const)('concurrent flushes (%s)', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
  });
  afterAll(async () => dispose());

  it('keep exact counts and ack each request after its commit, with overlapping sessions, snapshot rows and retried requests', async () => {
    const metrics = createCollectorMetrics();
    // One request a flush, four flushes at once; each request counts spans of three workflows and
    // three snapshot keys, in an order that differs from request to request (unsorted, two such
    // flushes would lock the same rows in opposite orders).
    const writer = new GroupCommitWriter(db, options(4, { maxBatchSpans: 15 }), metrics, silent);
    const items: WriteItem[] = [];
    const expected = new Map<string, number>();
    const snapExpected = new Map<string, number>();
    const orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1], [1, 0, 2]];
    for (let i = 0; i < 60; i++) {
      const parts = orders[i % orders.length]!.map((k) => {
        const wf = `${driver}-ov-${(k + i) % 4}`;
        const component = `c${(k + 2 * i) % 4}`;
        expected.set(wf, (expected.get(wf) ?? 0) + 5);
        snapExpected.set(`${component}/${i % 3}`, (snapExpected.get(`${component}/${i % 3}`) ?? 0) + 5);
        return request(wf, 5, '', { component, minute: i % 3, kept: i % 4 === 0 && k === 0 ? 2 : 0, seed: 10 * i + k + 1 });
      });
      const item: WriteItem = {
        spans: parts.flatMap((p) => p.spans), errors: [], observations: parts.flatMap((p) => p.observations ?? []),
        deltas: parts.flatMap((p) => p.deltas ?? []), receipt: `${driver}-ov-r${i}`,
      };
      items.push(item);
      // An exporter's retry of every fifth request, submitted while its first copy may still be in flight.
      if (i % 5 === 0) items.push({ ...item });
    }
    const settled = items.map((i) => track(writer.submit(i)));
    const results = await Promise.all(settled.map((s) => s.promise));
    // Each receipt counted once: its first or its second copy, never both.
    const byReceipt = new Map<string, ItemResult[]>();
    items.forEach((item, k) => byReceipt.set(item.receipt!, [...(byReceipt.get(item.receipt!) ?? []), results[k]!]));
    for (const rs of byReceipt.values()) expect(rs.filter((r) => !r.duplicateRequest)).toHaveLength(1);
    const sessions = await db.query<{ workflow_id: string; span_count: number }>(`SELECT workflow_id, span_count FROM workflow_sessions WHERE workflow_id LIKE '${driver}-ov-%' ORDER BY 1`);
    expect(new Map(sessions.map((s) => [s.workflow_id, Number(s.span_count)]))).toEqual(new Map([...expected].sort()));
    const snaps = await db.query<{ component: string; m: number; n: string }>(
      `SELECT component, ((extract(epoch FROM bucket_start) * 1000 - $1) / 60000)::int AS m, sum(count)::text AS n FROM ${snapshotsWithPending()} s
        WHERE component LIKE 'c%' GROUP BY 1, 2 ORDER BY 1, 2`, [T0],
    );
    expect(new Map(snaps.map((s) => [`${s.component}/${s.m}`, Number(s.n)]))).toEqual(new Map([...snapExpected].sort()));
    const [stored] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM trace_steps WHERE workflow_id LIKE '${driver}-ov-%'`);
    expect(Number(stored!.n)).toBe(15 * 2);
    // Keys in one order: no flush was rolled back by a deadlock.
    expect(await metricValue(metrics.writeRetries, '40P01')).toBe(0);
    await writer.close();
    expect(writer.queuedSpans).toBe(0);
    await db.query(`DELETE FROM performance_snapshots WHERE component LIKE 'c%'`);
  });

  it('released spans mark an existing session kept without counting them again; spans of a workflow with no session create none', async () => {
    const writer = new GroupCommitWriter(db, options(2), createCollectorMetrics(), silent);
    const wf = `${driver}-held`;
    await writer.submit(request(wf, 3, `${driver}-held-0`)); // sampled out: keep false
    const released = request(wf, 2, '', { kept: 2, seed: 5000 }).spans;
    const orphan = request(`${driver}-orphan`, 1, '', { kept: 1, seed: 5001 }).spans;
    const r = await writer.submit({ spans: [...released, ...orphan], errors: [], observations: [] });
    expect(r.inserted).toBe(3);
    const rows = await db.query<{ w: string; n: number; keep: boolean }>(
      `SELECT workflow_id AS w, span_count AS n, keep FROM workflow_sessions WHERE workflow_id IN ($1, $2)`, [wf, `${driver}-orphan`],
    );
    expect(rows.map((x) => [x.w, Number(x.n), x.keep])).toEqual([[wf, 3, true]]);
    await writer.close();
  });
});

describe('concurrent flushes on PostgreSQL: locks', () => {
  let db: Database;
  let url: string;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const t = await openTestDatabase('postgres');
    db = t.db;
    url = t.url!;
    dispose = t.dispose;
  });
  afterAll(async () => dispose());

  /** Backends of this database waiting for a lock, other than `except`. */
  const lockWaiters = async () =>
    (await db.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`)).map((r) => Number(r.pid));
  const waitFor = async (what: () => Promise<boolean>, label: string) => {
    const deadline = Date.now() + 15_000;
    while (!(await what())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Holds workflow `wf`'s session row locked (FOR UPDATE) until release() resolves. */
  async function holdSession(wf: string) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const done = db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM workflow_sessions WHERE workflow_id = $1 FOR UPDATE', [wf]);
      locked();
      await released;
    });
    await isLocked;
    return { release: async () => { release(); await done; } };
  }

  it.each([1, 3])('concurrency %i: that many flush transactions are in flight at once, later requests wait for a free one', async (concurrency) => {
    const wdb = openPostgres({ url, maxConnections: 8 });
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(wdb, options(concurrency, { maxBatchSpans: 5 }), metrics, silent);
    const wf = `slots-${concurrency}`;
    await writer.submit(request(wf, 5, `slots-${concurrency}-0`));
    const held = await holdSession(wf);
    const pending = [1, 2, 3, 4].map((i) => track(writer.submit(request(wf, 5, `slots-${concurrency}-${i}`, { kept: 1, seed: 100 * concurrency + i }))));
    await waitFor(async () => (await lockWaiters()).length === concurrency, `${concurrency} flushes waiting`);
    expect((await metrics.flushesInFlight.get()).values[0]!.value).toBe(concurrency);
    // Nothing is acknowledged before its commit, and nothing of it is visible yet.
    expect(pending.map((p) => p.done)).toEqual([false, false, false, false]);
    const [before] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM trace_steps WHERE workflow_id = $1`, [wf]);
    expect(Number(before!.n)).toBe(0);
    await held.release();
    const results = await Promise.all(pending.map((p) => p.promise));
    expect(results.map((r) => r.duplicateRequest)).toEqual([false, false, false, false]);
    const [after] = await db.query<{ s: number; n: number }>(
      `SELECT span_count AS s, (SELECT count(*)::int FROM trace_steps WHERE workflow_id = $1) AS n FROM workflow_sessions WHERE workflow_id = $1`, [wf],
    );
    expect([Number(after!.s), Number(after!.n)]).toEqual([25, 4]);
    await writer.close();
    expect((await metrics.flushesInFlight.get()).values[0]!.value).toBe(0);
    await wdb.close();
  });

  it('two flushes wanting the same sessions in opposite orders wait for one another instead of deadlocking', async () => {
    const wdb = openPostgres({ url, maxConnections: 4 });
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(wdb, options(2, { maxBatchSpans: 15 }), metrics, silent);
    const tag = 'ord-s';
    // Keys a < b < z. Request 1 lists them a, z, b and request 2 b, z, a; another transaction
    // holds z. Taken in the requests' orders, flush 1 would hold a and flush 2 b, both wait for z,
    // and whichever gets z next waits for the other: a deadlock. Taken sorted, flush 2 waits for
    // flush 1 at a.
    const item = (keys: string[], i: number): WriteItem => {
      const parts = keys.map((k) => request(`${tag}-${k}`, 5, '', { component: `${tag}-c`, minute: 0 }));
      return { spans: [], errors: [], observations: parts.flatMap((p) => p.observations ?? []), deltas: parts.flatMap((p) => p.deltas ?? []), receipt: `${tag}-${i}` };
    };
    await writer.submit(item(['z'], 0)); // the row to hold exists
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM workflow_sessions WHERE workflow_id = $1 FOR UPDATE', [`${tag}-z`]);
      locked();
      await released;
    });
    await isLocked;
    const one = writer.submit(item(['a', 'z', 'b'], 1));
    await waitFor(async () => (await lockWaiters()).length === 1, 'the first flush to wait');
    const two = writer.submit(item(['b', 'z', 'a'], 2));
    await waitFor(async () => (await lockWaiters()).length === 2, 'the second flush to wait');
    release();
    await holder;
    await Promise.all([one, two]);
    expect(await metricValue(metrics.writeRetries, '40P01')).toBe(0);
    const rows = await db.query<{ w: string; n: number }>(`SELECT workflow_id AS w, span_count AS n FROM workflow_sessions WHERE workflow_id LIKE '${tag}-%' ORDER BY 1`);
    expect(rows.map((r) => [r.w, Number(r.n)])).toEqual([[`${tag}-a`, 10], [`${tag}-b`, 10], [`${tag}-z`, 15]]);
    await writer.close();
    await wdb.close();
  });

  it('flushes take no lock on snapshot rows (they record pending rows); the fold does, in key order, and counts every span once', async () => {
    const wdb = openPostgres({ url, maxConnections: 4 });
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(wdb, options(2, { maxBatchSpans: 15 }), metrics, silent);
    const tag = 'ord-p';
    // The two requests' minutes differ (no minute row in common) and share their five-minute
    // roll-up rows, where another transaction holds z.
    const fiveMin = Math.floor(T0 / 300_000) * 300_000 - 300_000;
    const item = (keys: string[], i: number): WriteItem => {
      const parts = keys.map((k) => request(`${tag}-${k}${i}`, 5, '', { component: `${tag}-${k}`, minute: (fiveMin - T0) / MIN + (i === 2 ? 1 : 0) }));
      return { spans: [], errors: [], observations: parts.flatMap((p) => p.observations ?? []), deltas: parts.flatMap((p) => p.deltas ?? []), receipt: `${tag}-${i}` };
    };
    await writer.submit(item(['z'], 0));
    await foldPendingSnapshots(db, 1000); // the roll-up row to hold exists
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = db.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM performance_rollups WHERE component = $1 AND bucket_seconds = 300 FOR UPDATE', [`${tag}-z`]);
      locked();
      await released;
    });
    await isLocked;
    // Both flushes commit while z is held: they never touch it.
    await Promise.all([writer.submit(item(['a', 'z', 'b'], 1)), writer.submit(item(['b', 'z', 'a'], 2))]);
    expect(await lockWaiters()).toHaveLength(0);
    const fold = foldPendingSnapshots(db, 1000);
    await waitFor(async () => (await lockWaiters()).length === 1, 'the fold to wait');
    release();
    await holder;
    expect(await fold).toBeGreaterThan(0);
    const rows = await db.query<{ c: string; n: string }>(`SELECT component AS c, count::text AS n FROM performance_rollups WHERE component LIKE '${tag}-%' AND bucket_seconds = 300 ORDER BY 1`);
    expect(rows.map((r) => [r.c, Number(r.n)])).toEqual([[`${tag}-a`, 10], [`${tag}-b`, 10], [`${tag}-z`, 15]]);
    await writer.close();
    await wdb.close();
  });

  it('a stored span marks its session kept in the same sorted pass, not before it (no deadlock with a flush that counts it)', async () => {
    const wdb = openPostgres({ url, maxConnections: 4 });
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(wdb, options(2, { maxBatchSpans: 2 }), metrics, silent);
    // z < zz; both sessions exist, zz sampled out so far (keep false). Flush 1 counts spans of
    // z and zz; flush 2 stores a span of zz (a held span released) and counts one of z. Had flush 2
    // marked zz kept while moving its spans, it would hold zz and wait for z, held by flush 1,
    // which waits for zz.
    await writer.submit(request('keep-z', 1, 'keep-0'));
    await writer.submit(request('keep-zz', 1, 'keep-1'));
    expect((await db.query<{ keep: boolean }>(`SELECT keep FROM workflow_sessions WHERE workflow_id = 'keep-zz'`))[0]?.keep).toBe(false);
    const held = await holdSession('keep-z');
    const counts = (wfs: string[], receipt: string): WriteItem => {
      const parts = wfs.map((w) => request(w, 1, '', { component: 'keep-c' }));
      return { spans: [], errors: [], observations: parts.flatMap((p) => p.observations ?? []), receipt };
    };
    const one = track(writer.submit(counts(['keep-z', 'keep-zz'], 'keep-2')));
    await waitFor(async () => (await lockWaiters()).length === 1, 'the first flush to wait');
    const released = request('keep-zz', 1, '', { kept: 1, seed: 4000 });
    const two = track(writer.submit({ ...counts(['keep-z'], 'keep-3'), spans: released.spans }));
    await waitFor(async () => (await lockWaiters()).length === 2, 'the second flush to wait');
    await held.release();
    await Promise.all([one.promise, two.promise]);
    expect(await metricValue(metrics.writeRetries, '40P01')).toBe(0);
    const rows = await db.query<{ w: string; n: number; keep: boolean }>(`SELECT workflow_id AS w, span_count AS n, keep FROM workflow_sessions WHERE workflow_id LIKE 'keep-%' ORDER BY 1`);
    expect(rows.map((r) => [r.w, Number(r.n), r.keep])).toEqual([['keep-z', 3, false], ['keep-zz', 2, true]]);
    await writer.close();
    await wdb.close();
  });

  it('two copies of one request in two concurrent flushes: the second waits for the first to commit and counts nothing', async () => {
    const wdb = openPostgres({ url, maxConnections: 4 });
    const writer = new GroupCommitWriter(wdb, options(2), createCollectorMetrics(), silent);
    const wf = 'twice';
    await writer.submit(request(wf, 1, 'twice-0'));
    const held = await holdSession(wf);
    const copy = request(wf, 7, 'twice-1', { kept: 3, seed: 900, component: 'twice-c' });
    const first = track(writer.submit(copy));
    // The first copy's flush has inserted the receipt and waits for the session row …
    await waitFor(async () => (await lockWaiters()).length === 1, 'the first flush to wait');
    const second = track(writer.submit({ ...copy }));
    // … the second copy's flush waits for that receipt.
    await waitFor(async () => (await lockWaiters()).length === 2, 'the second flush to wait');
    expect([first.done, second.done]).toEqual([false, false]);
    await held.release();
    const [a, b] = await Promise.all([first.promise, second.promise]);
    expect([a.duplicateRequest, b.duplicateRequest]).toEqual([false, true]);
    const [row] = await db.query<{ s: number; n: number; p: string }>(
      `SELECT span_count AS s, (SELECT count(*)::int FROM trace_steps WHERE workflow_id = $1) AS n,
              (SELECT sum(count)::text FROM ${snapshotsWithPending()} s WHERE component = 'twice-c') AS p
         FROM workflow_sessions WHERE workflow_id = $1`, [wf],
    );
    expect([Number(row!.s), Number(row!.n), Number(row!.p)]).toEqual([8, 3, 7]);
    await writer.close();
    await wdb.close();
  });

  it('a flush rolled back by a deadlock runs again and counts once', async () => {
    const wdb = openPostgres({ url, maxConnections: 4 });
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(wdb, options(2), metrics, silent);
    const wf = 'deadlock';
    await writer.submit(request(wf, 1, 'deadlock-0'));
    // Another transaction holds the session row, the flush takes its receipt and waits for the
    // row; then that transaction wants the receipt: a cycle. The flush's backend (default 1 s
    // deadlock_timeout, waiting first) finds it and is rolled back; this transaction's wait is
    // long enough not to.
    class RollBack extends Error {}
    let flushRolledBack = false;
    let submitted: ReturnType<typeof track<ItemResult>> | undefined;
    await db.transaction(async (tx) => {
      await tx.query(`SET LOCAL deadlock_timeout = '60s'`);
      await tx.query('SELECT 1 FROM workflow_sessions WHERE workflow_id = $1 FOR UPDATE', [wf]);
      // Sampled out (no spans): the flush's first lock wait is the session row, after its receipt.
      submitted = track(writer.submit(request(wf, 4, 'deadlock-1')));
      await waitFor(async () => (await lockWaiters()).length === 1, 'the flush to wait');
      // Returns once the flush was rolled back; its retry then waits for this transaction.
      await tx.query(`INSERT INTO ingest_receipts (hash) VALUES ('deadlock-1') ON CONFLICT DO NOTHING`);
      flushRolledBack = !submitted.done;
      throw new RollBack();
    }).catch((err: unknown) => {
      if (!(err instanceof RollBack)) throw err;
    });
    expect(flushRolledBack).toBe(true);
    const done = await submitted!.promise;
    expect(done.duplicateRequest).toBe(false);
    expect(await metricValue(metrics.writeRetries, '40P01')).toBe(1);
    const [row] = await db.query<{ s: number; n: number }>(
      `SELECT span_count AS s, (SELECT count(*)::int FROM trace_steps WHERE workflow_id = $1) AS n FROM workflow_sessions WHERE workflow_id = $1`, [wf],
    );
    expect([Number(row!.s), Number(row!.n)]).toEqual([5, 0]);
    await writer.close();
    await wdb.close();
  });

  it('storage lost under several flushes: each is refused with a retryable 503, the queue too, and writes resume when it answers', async () => {
    const proxy = new PgProxy();
    await proxy.start();
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const wdb = openPostgres({ url: viaProxy.toString(), maxConnections: 6, connectTimeoutSeconds: 2 });
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(wdb, options(3, { maxBatchSpans: 5 }), metrics, silent);
    const wf = 'outage';
    await writer.submit(request(wf, 1, 'outage-0'));
    const held = await holdSession(wf);
    const inFlight = [1, 2, 3].map((i) => track(writer.submit(request(wf, 5, `outage-${i}`))));
    await waitFor(async () => (await lockWaiters()).length === 3, 'three flushes waiting');
    const queued = track(writer.submit(request(wf, 5, 'outage-4')));
    // PostgreSQL goes away for the writer, in the middle of its three flushes.
    await proxy.stop();
    const settled = await Promise.allSettled([...inFlight, queued].map((p) => p.promise));
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason).toMatchObject({ code: 'FS_STORAGE_UNAVAILABLE', statusCode: 503, options: { retryAfterSeconds: 1 } });
    }
    expect(writer.storageAvailable).toBe(false);
    await waitFor(async () => writer.queuedSpans === 0, 'the refused spans to leave the queue');
    await held.release();
    await proxy.start();
    await waitFor(async () => writer.storageAvailable, 'the probe to find storage back');
    const again = await writer.submit(request(wf, 5, 'outage-1'));
    expect(again.duplicateRequest).toBe(false);
    const [row] = await db.query<{ s: number }>('SELECT span_count AS s FROM workflow_sessions WHERE workflow_id = $1', [wf]);
    expect(Number(row!.s)).toBe(6);
    await writer.close();
    await wdb.close();
    await proxy.stop();
  });

  it('close() waits for every flush in flight, then folds', async () => {
    const wdb = openPostgres({ url, maxConnections: 6 });
    const writer = new GroupCommitWriter(wdb, options(3, { maxBatchSpans: 5 }), createCollectorMetrics(), silent);
    const wf = 'closing';
    await writer.submit(request(wf, 1, 'closing-0'));
    const held = await holdSession(wf);
    const pending = [1, 2, 3, 4, 5].map((i) => track(writer.submit(request(wf, 5, `closing-${i}`))));
    await waitFor(async () => (await lockWaiters()).length === 3, 'three flushes waiting');
    const closed = track(writer.close());
    await expect(writer.submit(request(wf, 5, 'closing-6'))).rejects.toMatchObject({ code: 'FS_SHUTTING_DOWN', statusCode: 503 });
    expect(closed.done).toBe(false);
    await held.release();
    await closed.promise;
    expect(pending.every((p) => p.done && p.error === undefined)).toBe(true);
    const [row] = await db.query<{ s: number }>('SELECT span_count AS s FROM workflow_sessions WHERE workflow_id = $1', [wf]);
    expect(Number(row!.s)).toBe(26);
    await wdb.close();
  });
});
