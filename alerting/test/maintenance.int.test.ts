import { afterEach, describe, expect, it } from 'vitest';
import { LocalEventBus, type LiveEvent } from '@flowscope/common';
import { openTestDatabase } from '@flowscope/storage/testing';
import { listPartitions, type Database } from '@flowscope/storage';
import { startAlerting, type AlertingHandle } from '../src/index.ts';
import { runEnsurePartitions } from '../src/maintenance.ts';
import { cleanRedisPrefix, delta, REDIS_URL, testConfig, testLogger, uniquePrefix, waitFor, writeDeltas } from './helpers.ts';

const DAY = 86_400_000;
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const part = (table: string, ms: number) => `${table}_p${ymd(ms).replaceAll('-', '')}`;

async function addPartition(db: Database, table: string, ms: number) {
  await db.query('SELECT flowscope_ensure_partitions($1, $2::date, 1)', [table, ymd(ms)]);
}

async function addSpan(db: Database, id: string, ms: number) {
  await db.query(
    `INSERT INTO trace_steps (trace_id, span_id, workflow_id, workflow_type, layer, component, name, start_time, end_time, duration_ms)
     VALUES ($1, $1, 'wf', 'checkout', 'api', 'shop', 'GET /', $2::timestamptz, $2::timestamptz, 1)`,
    [id, new Date(ms).toISOString()],
  );
}

describe.each([
  { name: 'BullMQ, PostgreSQL', driver: 'postgres' as const, redis: true },
  { name: 'in-process, PGlite', driver: 'pglite' as const, redis: false },
])('maintenance jobs ($name)', ({ driver, redis }) => {
  let alerting: AlertingHandle | undefined;
  let dispose: (() => Promise<void>) | undefined;
  const prefix = uniquePrefix();
  afterEach(async () => {
    await alerting?.close();
    await dispose?.();
    if (redis) await cleanRedisPrefix(prefix);
  });

  it('retention drops expired partitions and keeps the current ones; stale in-progress workflows time out', async () => {
    const t = await openTestDatabase(driver);
    const db = t.db;
    dispose = t.dispose;
    const now = Date.now();
    // Spans: 30 days of retention. Snapshots: 7.
    for (const ms of [now - 40 * DAY, now - 20 * DAY]) await addPartition(db, 'trace_steps', ms);
    for (const ms of [now - 10 * DAY, now - 5 * DAY]) await addPartition(db, 'performance_snapshots', ms);
    await addSpan(db, 'old', now - 40 * DAY);
    await addSpan(db, 'kept', now - 20 * DAY);
    await addSpan(db, 'today', now);
    await writeDeltas(db, [
      delta(now - 10 * DAY, { workflowType: 'checkout', layer: 'api' }, [5]),
      delta(now - 5 * DAY, { workflowType: 'checkout', layer: 'api' }, [5]),
      delta(now, { workflowType: 'checkout', layer: 'api' }, [5]),
    ]);
    const iso = (ms: number) => new Date(ms).toISOString();
    await db.query(
      `INSERT INTO workflow_sessions (workflow_id, workflow_type, status, started_at, ended_at) VALUES
         ('stale', 'checkout', 'in_progress', $1::timestamptz, $2::timestamptz),
         ('active', 'checkout', 'in_progress', $3::timestamptz, $4::timestamptz),
         ('done', 'checkout', 'completed', $1::timestamptz, $2::timestamptz)`,
      [iso(now - 20 * 60_000), iso(now - 10 * 60_000), iso(now - 2 * 60_000), iso(now - 60_000)],
    );

    const config = testConfig({ FLOWSCOPE_QUEUE_PREFIX: prefix, FLOWSCOPE_MAINTENANCE_INTERVAL_SECONDS: '0.2' });
    const done = new Set<string>();
    const liveEvents = new LocalEventBus();
    const live: LiveEvent[] = [];
    liveEvents.subscribe((e) => live.push(e));
    alerting = await startAlerting({ db, config, logger: testLogger(), redisUrl: redis ? REDIS_URL : undefined, clock: () => now, liveEvents });
    alerting.events.on('maintenance', (e) => done.add(e.job));
    await waitFor(() => done.has('retention') && done.has('workflow-timeouts') && done.has('ensure-partitions'), 'the maintenance jobs');

    const spans = await listPartitions(db, 'trace_steps');
    expect(spans).not.toContain(part('trace_steps', now - 40 * DAY));
    expect(spans).toContain(part('trace_steps', now - 20 * DAY));
    for (let d = -1; d <= 3; d++) expect(spans).toContain(part('trace_steps', now + d * DAY));
    const snaps = await listPartitions(db, 'performance_snapshots');
    expect(snaps).not.toContain(part('performance_snapshots', now - 10 * DAY));
    expect(snaps).toContain(part('performance_snapshots', now - 5 * DAY));
    expect(snaps).toContain(part('performance_snapshots', now));

    const ids = await db.query<{ trace_id: string }>('SELECT trace_id FROM trace_steps ORDER BY trace_id');
    expect(ids.map((r) => r.trace_id)).toEqual(['kept', 'today']);
    const snapshotDays = await db.query<{ d: string }>(`SELECT to_char(bucket_start, 'YYYY-MM-DD') AS d FROM performance_snapshots ORDER BY 1`);
    expect(snapshotDays.map((r) => r.d)).toEqual([ymd(now - 5 * DAY), ymd(now)]);

    const sessions = await db.query<{ workflow_id: string; status: string }>('SELECT workflow_id, status FROM workflow_sessions ORDER BY workflow_id');
    expect(sessions).toEqual([
      { workflow_id: 'active', status: 'in_progress' },
      { workflow_id: 'done', status: 'completed' },
      { workflow_id: 'stale', status: 'timed_out' },
    ]);
    // The live stream hears of it once.
    expect(live.map((e) => [e.type, (e as { workflow_id?: string }).workflow_id])).toEqual([['workflow.timed_out', 'stale']]);
  });
});

describe('ensure partitions', () => {
  it('creates the days ahead of the (injected) clock', async () => {
    const { db, dispose } = await openTestDatabase('postgres');
    try {
      const later = Date.now() + 30 * DAY;
      expect(await runEnsurePartitions(db, { ...testConfig(), FLOWSCOPE_PARTITIONS_AHEAD_DAYS: 2 }, later)).toBeGreaterThan(0);
      const parts = await listPartitions(db, 'trace_steps');
      for (let d = -1; d <= 2; d++) expect(parts).toContain(part('trace_steps', later + d * DAY));
      expect(await runEnsurePartitions(db, { ...testConfig(), FLOWSCOPE_PARTITIONS_AHEAD_DAYS: 2 }, later)).toBe(0);
    } finally {
      await dispose();
    }
  });
});
