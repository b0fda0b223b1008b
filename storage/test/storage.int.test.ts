import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import {
  dropExpiredPartitions,
  ensurePartitions,
  listPartitions,
  loadMigrations,
  migrate,
  openPostgres,
  schema,
  writeSpans,
  type Database,
} from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { errorRecord, hex, span } from './fixtures.ts';

// One suite, run against both drivers (the way Jaeger runs one integration suite per backend).
describe.each<Driver>(['postgres', 'pglite'])('storage on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  let url: string | undefined;

  beforeAll(async () => {
    ({ db, dispose, url } = await openTestDatabase(driver));
  });
  afterAll(async () => {
    await dispose();
  });

  it('migrations are recorded and a second run applies nothing', async () => {
    const versions = await db.query<{ version: string }>('SELECT version FROM flowscope_migrations');
    expect(versions.map((v) => v.version)).toContain('0001_init');
    expect(await migrate(db)).toEqual([]);
  });

  it('every column of the drizzle schema exists in the database with the same type', async () => {
    const tables = (Object.values(schema) as unknown[]).filter((t): t is PgTable => is(t, PgTable));
    expect(tables.length).toBeGreaterThanOrEqual(8);
    for (const table of tables) {
      const name = getTableName(table);
      const rows = await db.query<{ column_name: string; udt_name: string }>(
        `SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = 'public'`,
        [name],
      );
      const actual = new Map(rows.map((r) => [r.column_name, r.udt_name]));
      for (const column of Object.values(getTableColumns(table))) {
        expect(actual.has(column.name), `${name}.${column.name}`).toBe(true);
        const sqlType = column.getSQLType().replace('[]', '');
        const udt = actual.get(column.name)!.replace(/^_/, '');
        const same: Record<string, string[]> = {
          text: ['text'],
          smallint: ['int2'],
          integer: ['int4'],
          serial: ['int4'],
          bigint: ['int8'],
          bigserial: ['int8'],
          boolean: ['bool'],
          'double precision': ['float8'],
          jsonb: ['jsonb'],
          'timestamp with time zone': ['timestamptz'],
        };
        expect(same[sqlType] ?? [sqlType], `${name}.${column.name}`).toContain(udt);
      }
    }
  });

  it('creates daily partitions ahead and keeps a default partition', async () => {
    const parts = await listPartitions(db, 'trace_steps');
    expect(parts).toContain('trace_steps_default');
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    expect(parts).toContain(`trace_steps_p${today}`);
    expect(await listPartitions(db, 'performance_snapshots')).toContain(`performance_snapshots_p${today}`);
    expect(await ensurePartitions(db)).toBe(0);
  });

  it('stores spans idempotently and derives session counts only from new spans', async () => {
    const t0 = Date.now();
    const batch = {
      spans: [
        span({ spanId: hex(1, 16), startMs: t0, durationMs: 120, workflowId: 'wf-idem', userId: 'u-7' }),
        span({ spanId: hex(2, 16), parentSpanId: hex(1, 16), startMs: t0 + 5, durationMs: 30, layer: 'database', workflowId: 'wf-idem' }),
      ],
      errors: [],
    };
    expect(await writeSpans(db, batch)).toMatchObject({ inserted: 2, duplicates: 0 });
    expect(await writeSpans(db, batch)).toMatchObject({ inserted: 0, duplicates: 2 });
    const [session] = await db.query<Record<string, unknown>>(
      `SELECT workflow_type, status, span_count, error_count, user_id, duration_ms FROM workflow_sessions WHERE workflow_id = 'wf-idem'`,
    );
    expect(session).toMatchObject({ workflow_type: 'checkout', status: 'completed', span_count: 2, error_count: 0, user_id: 'u-7' });
    expect(Number(session!.duration_ms)).toBeCloseTo(120, 3);
    const [{ n }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM trace_steps WHERE workflow_id = 'wf-idem'`)) as [
      { n: number },
    ];
    expect(n).toBe(2);
  });

  it('concurrent writers of the same new spans store each once (the race falls back to the conflict-skipping path)', async () => {
    const t0 = Date.now();
    const batch = {
      spans: Array.from({ length: 50 }, (_, i) =>
        span({ traceId: 'e'.repeat(32), spanId: hex(100 + i, 16), parentSpanId: i === 0 ? null : hex(100, 16), startMs: t0 + i, workflowId: 'wf-race' }),
      ),
      errors: [],
    };
    const results = await Promise.all(Array.from({ length: 4 }, () => writeSpans(db, batch)));
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(50);
    const [s] = await db.query<{ span_count: number }>(`SELECT span_count FROM workflow_sessions WHERE workflow_id = 'wf-race'`);
    expect(s!.span_count).toBe(50);
  });

  it('a COPY the server refuses rejects (postgres.js is patched for porsager/postgres#1173) and rolls back', async () => {
    const attempt = db.transaction((tx) =>
      tx.copyIn('api_tokens', ['name', 'role', 'token_hash', 'token_prefix'], ['x\tnot-a-role\th\tp\n'], () => [
        { name: 'x', role: 'not-a-role', token_hash: 'h', token_prefix: 'p' },
      ]),
    );
    await expect(attempt).rejects.toMatchObject({ code: '23514' });
    expect(await db.query(`SELECT 1 FROM api_tokens WHERE token_hash = 'h'`)).toHaveLength(0);
    // The connection is usable afterwards.
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('keeps microsecond precision and odd characters intact through COPY', async () => {
    const start = 1_700_000_000_123_456_789n;
    const odd = 'tab\there\nnew line \\ back\rslash "quote" \'single\' ünïcødé';
    await writeSpans(db, {
      spans: [
        {
          ...span({ spanId: hex(3, 16), workflowId: 'wf-odd', name: odd, attributes: { odd, n: 1.5, nested: { a: [1, 2] } } }),
          startUnixNano: start,
          endUnixNano: start + 2_500_000n,
        },
      ],
      errors: [],
    });
    const [row] = await db.query<{ name: string; attributes: unknown; st: string; duration_ms: number }>(
      `SELECT name, attributes, to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS st, duration_ms
         FROM trace_steps WHERE workflow_id = 'wf-odd'`,
    );
    expect(row!.name).toBe(odd);
    expect(row!.attributes).toEqual({ odd, n: 1.5, nested: { a: [1, 2] } });
    expect(row!.st).toBe('2023-11-14 22:13:20.123456');
    expect(Number(row!.duration_ms)).toBeCloseTo(2.5, 6);
  });

  it('a span with an odd timestamp lands in the default partition and moves when its day is created', async () => {
    const old = Date.UTC(2001, 0, 2, 12);
    await writeSpans(db, { spans: [span({ spanId: hex(4, 16), startMs: old, workflowId: 'wf-old' })], errors: [] });
    const inDefault = await db.query(`SELECT 1 FROM trace_steps_default WHERE workflow_id = 'wf-old'`);
    expect(inDefault).toHaveLength(1);
    expect(await ensurePartitions(db, new Date(Date.UTC(2001, 0, 2)), 1)).toBeGreaterThan(0);
    expect(await db.query(`SELECT 1 FROM trace_steps_default WHERE workflow_id = 'wf-old'`)).toHaveLength(0);
    expect(await db.query(`SELECT 1 FROM trace_steps_p20010102 WHERE workflow_id = 'wf-old'`)).toHaveLength(1);
  });

  it('retention drops whole expired partitions and keeps current ones', async () => {
    const dropped = await dropExpiredPartitions(db, 'trace_steps', 30);
    expect(dropped).toContain('trace_steps_p20010102');
    const parts = await listPartitions(db, 'trace_steps');
    expect(parts).not.toContain('trace_steps_p20010102');
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    expect(parts).toContain(`trace_steps_p${today}`);
    expect(parts).toContain('trace_steps_default');
  });

  it('error records are stored once and failure marks the session failed', async () => {
    const t0 = Date.now();
    const batch = {
      spans: [span({ spanId: hex(5, 16), workflowId: 'wf-err', isError: true, statusCode: 2, startMs: t0 })],
      errors: [errorRecord({ spanId: hex(5, 16), correlationId: 'wf-err' }), errorRecord({ spanId: hex(5, 16), seq: 1, correlationId: 'wf-err', errorType: 'TypeError' })],
    };
    await writeSpans(db, batch);
    await writeSpans(db, batch);
    const errs = await db.query<{ error_type: string; resolved: boolean }>(
      `SELECT error_type, resolved FROM error_logs WHERE correlation_id = 'wf-err' ORDER BY seq`,
    );
    expect(errs).toEqual([
      { error_type: 'Error', resolved: false },
      { error_type: 'TypeError', resolved: false },
    ]);
    const [s] = await db.query<{ status: string; error_count: number }>(
      `SELECT status, error_count FROM workflow_sessions WHERE workflow_id = 'wf-err'`,
    );
    expect(s).toEqual({ status: 'failed', error_count: 1 });
  });

  it('uses the partial indexes for the two hot questions', async () => {
    const idx = await db.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN ('workflow_sessions_in_progress_idx', 'error_logs_unresolved_idx')`,
    );
    expect(idx.map((i) => i.indexname).sort()).toEqual(['error_logs_unresolved_idx', 'workflow_sessions_in_progress_idx']);
    expect(idx.find((i) => i.indexname === 'workflow_sessions_in_progress_idx')!.indexdef).toMatch(/WHERE \(status = 'in_progress'/);
    expect(idx.find((i) => i.indexname === 'error_logs_unresolved_idx')!.indexdef).toMatch(/WHERE \(resolved = false\)/);
  });

  if (driver === 'postgres') {
    it('concurrent migrations from several replicas serialise on the advisory lock', async () => {
      const { createTestDatabase } = await import('../src/testing.ts');
      const t = await createTestDatabase();
      const replicas = [0, 1, 2, 3].map(() => openPostgres({ url: t.url, maxConnections: 2 }));
      try {
        const results = await Promise.all(replicas.map((r) => migrate(r)));
        expect(results.flat()).toEqual(loadMigrations().map((m) => m.version));
        expect(results.filter((r) => r.length > 0)).toHaveLength(1);
      } finally {
        await Promise.all(replicas.map((r) => r.close()));
        await t.drop();
      }
      expect(url).toBeDefined();
    });
  }
});

describe.each<Driver>(['postgres', 'pglite'])('performance snapshots on %s', (driver) => {
  it('upserts deltas: counts and buckets add, min and max widen', async () => {
    const { db, dispose } = await openTestDatabase(driver);
    try {
      const { writeSnapshotDeltas, emptyBuckets, bucketIndex } = await import('../src/index.ts');
      const minute = Math.floor(Date.now() / 60000) * 60000;
      const delta = (v: number, errors: number) => {
        const buckets = emptyBuckets();
        buckets[bucketIndex(v)] = 1;
        return { bucketStartMs: minute, workflowType: 'checkout', layer: 'database', component: 'pg', metric: 'duration_ms', count: 1, errorCount: errors, sum: v, min: v, max: v, buckets };
      };
      await db.transaction((tx) => writeSnapshotDeltas(tx, [delta(10, 0)]));
      await db.transaction((tx) => writeSnapshotDeltas(tx, [delta(300, 1)]));
      const [row] = await db.query<{ count: string; error_count: string; sum: number; min: number; max: number; buckets: string[] }>(
        `SELECT count, error_count, sum, min, max, buckets FROM performance_snapshots`,
      );
      expect(Number(row!.count)).toBe(2);
      expect(Number(row!.error_count)).toBe(1);
      expect(Number(row!.sum)).toBe(310);
      expect([Number(row!.min), Number(row!.max)]).toEqual([10, 300]);
      const b = row!.buckets.map(Number);
      expect(b[bucketIndex(10)]).toBe(1);
      expect(b[bucketIndex(300)]).toBe(1);
      expect(b.reduce((s, c) => s + c, 0)).toBe(2);
    } finally {
      await dispose();
    }
  });
});

describe.each<Driver>(['postgres', 'pglite'])('sampling support on %s', (driver) => {
  it('a workflow’s observations aggregate to its earliest known type, earliest user, first trace, span and error counts', async () => {
    const { db, dispose } = await openTestDatabase(driver);
    try {
      const o = (ms: number, over: Record<string, unknown>) => ({
        workflowId: 'wf-agg',
        workflowType: 'unknown',
        userId: null,
        traceId: 'f'.repeat(32),
        startUnixNano: BigInt(ms) * 1_000_000n,
        endUnixNano: BigInt(ms + 10) * 1_000_000n,
        isError: false,
        isRoot: false,
        kept: false,
        ...over,
      });
      const t0 = Date.now() - 60_000;
      await writeSpans(db, {
        spans: [],
        errors: [],
        observations: [
          o(t0 + 30, { workflowType: 'search', userId: 'late-user', traceId: 'b'.repeat(32) }),
          o(t0, { traceId: 'a'.repeat(32) }),
          o(t0 + 10, { workflowType: 'checkout', isError: true }),
          o(t0 + 20, { userId: 'early-user', isRoot: true, kept: true }),
        ],
      });
      const [s] = await db.query<Record<string, unknown>>(
        `SELECT workflow_type, user_id, first_trace_id, span_count, error_count, status, keep, duration_ms FROM workflow_sessions WHERE workflow_id = 'wf-agg'`,
      );
      expect(s).toMatchObject({
        workflow_type: 'checkout',
        user_id: 'early-user',
        first_trace_id: 'a'.repeat(32),
        span_count: 4,
        error_count: 1,
        status: 'failed',
        keep: true,
      });
      expect(Number(s!.duration_ms)).toBeCloseTo(40, 3);
    } finally {
      await dispose();
    }
  });

  it('sessions count observations (kept or not), receipts say which requests are new, timeouts mark stale workflows', async () => {
    const { db, dispose } = await openTestDatabase(driver);
    try {
      const { claimReceipts, markTimedOutWorkflows, pruneReceipts } = await import('../src/index.ts');
      const t0 = Date.now() - 10 * 60_000;
      const obs = (i: number, kept: boolean, over: Record<string, unknown> = {}) => ({
        workflowId: 'wf-obs',
        workflowType: 'search',
        userId: null,
        traceId: 'c'.repeat(32),
        startUnixNano: BigInt(t0 + i) * 1_000_000n,
        endUnixNano: BigInt(t0 + i + 5) * 1_000_000n,
        isError: false,
        isRoot: false,
        kept,
        ...over,
      });
      // Three spans seen, none kept: the session exists with its counts, flagged not stored.
      await writeSpans(db, { spans: [], errors: [], observations: [obs(0, false), obs(1, false), obs(2, false)] });
      let [s] = await db.query<{ span_count: number; keep: boolean; status: string }>(
        `SELECT span_count, keep, status FROM workflow_sessions WHERE workflow_id = 'wf-obs'`,
      );
      expect(s).toEqual({ span_count: 3, keep: false, status: 'in_progress' });
      // Later the trace is kept: spans stored, the session flagged kept, counts unchanged.
      await writeSpans(db, { spans: [span({ spanId: hex(9, 16), workflowId: 'wf-obs', workflowType: 'search', startMs: t0 })], errors: [], observations: [] });
      [s] = await db.query(`SELECT span_count, keep, status FROM workflow_sessions WHERE workflow_id = 'wf-obs'`);
      expect(s).toEqual({ span_count: 3, keep: true, status: 'in_progress' });

      expect(await markTimedOutWorkflows(db, 60 * 60_000)).toEqual([]);
      expect(await markTimedOutWorkflows(db, 60_000)).toContain('wf-obs');
      [s] = await db.query(`SELECT span_count, keep, status FROM workflow_sessions WHERE workflow_id = 'wf-obs'`);
      expect(s!.status).toBe('timed_out');

      const first = await db.transaction((tx) => claimReceipts(tx, ['h1', 'h2']));
      const second = await db.transaction((tx) => claimReceipts(tx, ['h2', 'h3']));
      expect([...first].sort()).toEqual(['h1', 'h2']);
      expect([...second]).toEqual(['h3']);
      expect(await pruneReceipts(db, 60_000, new Date(Date.now() + 120_000))).toBe(3);
    } finally {
      await dispose();
    }
  });
});
