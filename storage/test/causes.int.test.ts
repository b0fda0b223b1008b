import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertScope, bucketIndex, emptyBuckets, findAlertCauses, topSlowOperations, writeOperationDeltas, writeSpans, type Database, type OperationDelta,
} from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { hex, span } from './fixtures.ts';

const MIN = 60_000;
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / MIN) * MIN;
const WINDOW_FROM = NOW - 5 * MIN;
const BASE_HOUR = Math.floor(WINDOW_FROM / HOUR) * HOUR - 2 * HOUR; // in the 24 h before the window's hour

/** Rows of one operation: `durations` in one bucket of the given resolution. */
function op(bucketStartMs: number, bucketSeconds: number, o: { layer: string; component: string; operation: string }, durations: number[]): OperationDelta {
  const buckets = emptyBuckets();
  for (const d of durations) buckets[bucketIndex(d)]! += 1;
  return {
    bucketStartMs, bucketSeconds, workflowType: 'checkout', ...o,
    count: durations.length, errorCount: 0, sum: durations.reduce((s, d) => s + d, 0), selfSum: durations.reduce((s, d) => s + d, 0),
    min: Math.min(...durations), max: Math.max(...durations), buckets, selfBuckets: [...buckets],
  };
}

const INSERT = { layer: 'database', component: 'orders-db', operation: 'INSERT shop.orders' };
const SELECT = { layer: 'database', component: 'inventory-db', operation: 'SELECT shop.stock' };
const HTTP = { layer: 'external', component: 'checkout-api', operation: 'GET /stock' };

// The HTTP call got 50× slower, the INSERT 30× and the SELECT 2×: unfiltered, the HTTP call
// leads; a database rule must name only database operations.
describe.each<Driver>(['postgres', 'pglite'])('alert causes on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    const usual = (ms: number) => Array.from({ length: 40 }, (_, i) => ms + (i % 5) * 0.1);
    await db.transaction((tx) =>
      writeOperationDeltas(tx, [
        op(BASE_HOUR, 3600, INSERT, usual(3)),
        op(BASE_HOUR, 3600, SELECT, usual(5)),
        op(BASE_HOUR, 3600, HTTP, usual(4)),
        op(NOW - 2 * MIN, 60, INSERT, usual(90)),
        op(NOW - 2 * MIN, 60, SELECT, usual(10)),
        op(NOW - 2 * MIN, 60, HTTP, usual(200)),
      ]),
    );
    // Stored spans: the exemplars (the slowest INSERT is in wf-slow).
    await writeSpans(db, {
      spans: [
        span({ traceId: hex(1, 32), spanId: hex(1, 16), workflowId: 'wf-slow', layer: 'database', component: 'orders-db', name: 'INSERT shop.orders', startMs: NOW - 2 * MIN, durationMs: 95 }),
        span({ traceId: hex(2, 32), spanId: hex(2, 16), workflowId: 'wf-other', layer: 'database', component: 'orders-db', name: 'INSERT shop.orders', startMs: NOW - 2 * MIN + 10, durationMs: 80 }),
        span({ traceId: hex(2, 32), spanId: hex(3, 16), workflowId: 'wf-other', layer: 'external', component: 'checkout-api', name: 'GET /stock', startMs: NOW - 2 * MIN + 10, durationMs: 210 }),
      ],
      errors: [],
    });
  });
  afterAll(async () => dispose());

  const q = { fromMs: WINDOW_FROM, toMs: NOW + MIN, baselineHours: 24, workflowType: 'checkout', limit: 5 };

  it('without a layer, every layer of the workflow type is ranked by ratio over its baseline', async () => {
    const all = await topSlowOperations(db, q);
    expect(all.map((o) => o.operation)).toEqual(['GET /stock', 'INSERT shop.orders', 'SELECT shop.stock']);
    expect(all[0]!.exemplarWorkflowId).toBe('wf-other');
  });

  it('a database rule names only database operations, with the slowest stored span as exemplar', async () => {
    const db1 = await topSlowOperations(db, { ...q, layer: 'database' });
    expect(db1.map((o) => o.operation)).toEqual(['INSERT shop.orders', 'SELECT shop.stock']);
    expect(db1.every((o) => o.layer === 'database')).toBe(true);
    const insert = db1[0]!;
    expect(insert.exemplarWorkflowId).toBe('wf-slow');
    expect(insert.ratio!).toBeGreaterThan(10);
    expect(insert.baselineP95Ms!).toBeLessThan(5);
    expect(insert.windowCount).toBe(40);
  });

  it('a component narrows further; a layer with no operations names none', async () => {
    expect((await topSlowOperations(db, { ...q, layer: 'database', component: 'inventory-db' })).map((o) => o.operation)).toEqual(['SELECT shop.stock']);
    expect(await topSlowOperations(db, { ...q, layer: 'cache' })).toEqual([]);
  });

  it('findAlertCauses: latency → slow operations of the scope, limit respected, 0 lists none', async () => {
    const base = { errorRate: false, fromMs: q.fromMs, toMs: q.toMs, baselineHours: 24, workflowType: 'checkout', layer: 'database', component: null };
    const causes = await findAlertCauses(db, { ...base, limit: 1 });
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatchObject({ kind: 'slow', operation: 'INSERT shop.orders', layer: 'database', exemplarWorkflowId: 'wf-slow' });
    expect(await findAlertCauses(db, { ...base, limit: 0 })).toEqual([]);
  });
});

describe('alertScope', () => {
  it('fills the rule\'s `*` fields from the scope key and keeps its fixed ones', () => {
    expect(alertScope({ workflow_type: '*', layer: 'database', component: null }, 'workflow_type=checkout')).toEqual({
      workflow_type: 'checkout', layer: 'database', component: null,
    });
    expect(alertScope({ workflow_type: '*', layer: '*', component: '*' }, 'workflow_type=a,layer=cache,component=redis=main')).toEqual({
      workflow_type: 'a', layer: 'cache', component: 'redis=main',
    });
    expect(alertScope({ workflow_type: null, layer: null, component: null }, '')).toEqual({ workflow_type: null, layer: null, component: null });
  });
});
