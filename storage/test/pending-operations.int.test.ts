import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyFlushCounts, bucketIndex, countPendingOperations, emptyBuckets, foldPendingOperations, parseOperationParam, pendingOperationParam,
  readOperationStats, writePendingOperationDeltas, type Database, type OperationDelta, type OperationStats,
} from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';

// Issue 10 (ingest cost of baselines): a flush records its per-operation minute deltas as one
// pending row; folds move pending rows into operation_stats (minute and hour rows). Readers
// count pending rows, so the answers are the same before, during and after folding.
const MIN = 60_000;
const HOUR = 3_600_000;
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;

function minute(bucketStartMs: number, operation: string, durations: number[], errors = 0): OperationDelta {
  const buckets = emptyBuckets();
  const selfBuckets = emptyBuckets();
  for (const d of durations) {
    buckets[bucketIndex(d)]! += 1;
    selfBuckets[bucketIndex(d / 2)]! += 1;
  }
  return {
    bucketStartMs, bucketSeconds: 60, workflowType: 'checkout', layer: 'database', component: 'orders-db', operation,
    count: durations.length + errors, errorCount: errors, sum: durations.reduce((s, d) => s + d, 0), selfSum: durations.reduce((s, d) => s + d / 2, 0),
    min: Math.min(...durations), max: Math.max(...durations), buckets, selfBuckets,
  };
}

// Three flushes: INSERT in two minutes of hour H0 and one of H0+1, SELECT in one minute.
const FLUSHES: OperationDelta[][] = [
  [minute(H0 + 5 * MIN, 'INSERT shop.orders', [3, 3.2, 2.9, 40]), minute(H0 + 5 * MIN, 'SELECT shop.stock', [5, 6])],
  [minute(H0 + 5 * MIN, 'INSERT shop.orders', [3.1, 2.8], 1), minute(H0 + 59 * MIN, 'INSERT shop.orders', [90])],
  [minute(H0 + HOUR + MIN, 'INSERT shop.orders', [3, 3, 3])],
];

describe('trimmed histograms in pending rows', () => {
  it('round-trip: only the non-zero range is written, the counts come back whole', () => {
    const d = FLUSHES[0]![0]!;
    const json = pendingOperationParam([d]);
    expect(json).toMatch(/"b":"\[\d+:\d+\]=\{[0-9,]+\}"/);
    expect(json.length).toBeLessThan(300);
    expect(parseOperationParam(json)).toEqual([d]);
    const empty = { ...minute(H0, 'x', [1]), buckets: emptyBuckets(), selfBuckets: emptyBuckets() };
    expect(parseOperationParam(pendingOperationParam([empty]))).toEqual([empty]);
    const edges = emptyBuckets();
    edges[0] = 1;
    edges[edges.length - 1] = 2;
    const both = { ...empty, buckets: edges };
    expect(parseOperationParam(pendingOperationParam([both]))[0]!.buckets).toEqual(edges);
  });

  it('hour deltas are refused: pending rows are minute rows', () => {
    expect(() => pendingOperationParam([{ ...FLUSHES[0]![0]!, bucketSeconds: 3600 }])).toThrow(/minute/);
  });
});

describe.each<Driver>(['postgres', 'pglite'])('pending per-operation rows on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
  });
  afterAll(async () => dispose());

  const read = async (): Promise<Record<string, OperationStats[]>> => ({
    hour: await readOperationStats(db, { fromMs: H0, toMs: H0 + HOUR }),
    hours: await readOperationStats(db, { fromMs: H0, toMs: H0 + 2 * HOUR }),
    minute: await readOperationStats(db, { fromMs: H0 + 5 * MIN, toMs: H0 + 6 * MIN, resolution: 'minute' }),
  });
  const sorted = (o: Record<string, OperationStats[]>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort((a, b) => a.operation.localeCompare(b.operation))]));

  it('readers count pending rows as folded ones; folds move them exactly once, maxRows at a time', async () => {
    // Flush 1 through the flush statement, flushes 2 and 3 through the writer function.
    await db.transaction((tx) => applyFlushCounts(tx, { receipts: ['r-1'], observations: [], snapshots: [], operations: FLUSHES[0]! }));
    for (const f of FLUSHES.slice(1)) await db.transaction((tx) => writePendingOperationDeltas(tx, f));
    expect(await countPendingOperations(db)).toBe(3);
    expect(await db.query('SELECT 1 FROM operation_stats')).toEqual([]);

    const before = sorted(await read());
    const insert = before.hour!.find((s) => s.operation === 'INSERT shop.orders')!;
    expect(insert).toMatchObject({ count: 8, errorCount: 1 }); // 4 + 3 in minute 5, 1 in minute 59; not the next hour's 3
    expect(insert.p50Ms).toBeGreaterThan(2.5);
    expect(insert.p50Ms).toBeLessThan(3.5);
    expect(before.hours!.find((s) => s.operation === 'INSERT shop.orders')!.count).toBe(11);
    expect(before.minute!.map((s) => [s.operation, s.count])).toEqual([['INSERT shop.orders', 7], ['SELECT shop.stock', 2]]);

    // maxRows bounds one fold; answers stay the same at every step.
    expect(await foldPendingOperations(db, 1)).toBe(1);
    expect(await countPendingOperations(db)).toBe(2);
    expect(sorted(await read())).toEqual(before);
    expect(await foldPendingOperations(db, 5)).toBe(2);
    expect(await foldPendingOperations(db, 5)).toBe(0);
    expect(await countPendingOperations(db)).toBe(0);
    expect(sorted(await read())).toEqual(before);

    // operation_stats now holds every span once in the minute rows and once in the hour rows.
    const rows = await db.query<{ s: number; n: number }>(
      `SELECT bucket_seconds AS s, sum(count)::int AS n FROM operation_stats GROUP BY 1 ORDER BY 1`,
    );
    expect(rows.map((r) => [Number(r.s), Number(r.n)])).toEqual([[60, 13], [3600, 13]]);
    const [hist] = await db.query<{ n: number }>(
      `SELECT sum(v)::int AS n FROM operation_stats, unnest(buckets) AS v WHERE bucket_seconds = 3600 AND operation = 'INSERT shop.orders'`,
    );
    expect(Number(hist!.n)).toBe(10); // histograms hold the successful spans

    // A pending row of the first format (operationParam's keys, as collectors before the short
    // keys wrote it, e.g. during a rolling upgrade) is read and folded as well.
    const old = minute(H0 + 5 * MIN, 'INSERT shop.orders', [3, 4]);
    const trimmed = (b: number[]) => `[${b.findIndex((v) => v > 0) + 1}:${b.findLastIndex((v) => v > 0) + 1}]={${b.slice(b.findIndex((v) => v > 0), b.findLastIndex((v) => v > 0) + 1).join(',')}}`;
    const format1 = JSON.stringify([{
      bucket_start: new Date(old.bucketStartMs).toISOString(), bucket_seconds: 60, workflow_type: old.workflowType, layer: old.layer, component: old.component,
      operation: old.operation, count: old.count, error_count: old.errorCount, sum: old.sum, self_sum: old.selfSum, min: old.min, max: old.max,
      buckets: trimmed(old.buckets), self_buckets: trimmed(old.selfBuckets),
    }]);
    await db.query('INSERT INTO operation_stats_pending (deltas) VALUES ($1)', [format1]);
    const withOld = sorted(await read());
    expect(withOld.hour!.find((s) => s.operation === 'INSERT shop.orders')!.count).toBe(10);
    expect(withOld.minute!.find((s) => s.operation === 'INSERT shop.orders')!.count).toBe(9);
    expect(await foldPendingOperations(db, 5)).toBe(1);
    expect(sorted(await read())).toEqual(withOld);

    // ... and by a reader filtered by workflow type: a row without a type may hold any type
    expect((await readOperationStats(db, { fromMs: H0, toMs: H0 + HOUR, workflowTypes: ['checkout'] })).find((s) => s.operation === 'INSERT shop.orders')?.count)
      .toBe(withOld.hour!.find((s) => s.operation === 'INSERT shop.orders')!.count);

    // A flush without per-operation deltas (baselines off) leaves no pending row.
    await db.transaction((tx) => applyFlushCounts(tx, { receipts: ['r-2'], observations: [], snapshots: [], operations: [] }));
    expect(await countPendingOperations(db)).toBe(0);
  });

  it('a flush writes one pending row per workflow type; readers filtered by type read their own rows only, before and after a fold', async () => {
    await db.query('TRUNCATE operation_stats, operation_stats_pending');
    const login = (d: OperationDelta): OperationDelta => ({ ...d, workflowType: 'login' });
    const flush = [FLUSHES[0]![0]!, login(FLUSHES[0]![0]!), login(FLUSHES[0]![1]!)];
    await db.transaction((tx) => applyFlushCounts(tx, { receipts: ['r-types'], observations: [], snapshots: [], operations: flush }));
    await db.transaction((tx) => writePendingOperationDeltas(tx, [login(FLUSHES[2]![0]!)]));
    const rows = await db.query<{ workflow_type: string; n: number }>('SELECT workflow_type, count(*)::int AS n FROM operation_stats_pending GROUP BY 1 ORDER BY 1');
    expect(rows.map((r) => [r.workflow_type, Number(r.n)])).toEqual([['checkout', 1], ['login', 2]]);
    const byType = async (type: string) =>
      (await readOperationStats(db, { fromMs: H0, toMs: H0 + 2 * HOUR, workflowTypes: [type] }))
        .map((s) => [s.workflowType, s.operation, s.count])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    // a row of another type is not even parsed by a reader filtered by type (this one is not JSON)
    await db.query(`INSERT INTO operation_stats_pending (workflow_type, deltas) VALUES ('search', 'not json')`);
    const before = { checkout: await byType('checkout'), login: await byType('login') };
    await expect(readOperationStats(db, { fromMs: H0, toMs: H0 + 2 * HOUR })).rejects.toThrow(/json/i);
    await db.query(`DELETE FROM operation_stats_pending WHERE workflow_type = 'search'`);
    expect(before.checkout).toEqual([['checkout', 'INSERT shop.orders', 4]]);
    expect(before.login).toEqual([['login', 'INSERT shop.orders', 7], ['login', 'SELECT shop.stock', 2]]);
    expect(await foldPendingOperations(db, 10)).toBe(3);
    expect({ checkout: await byType('checkout'), login: await byType('login') }).toEqual(before);
  });
});
