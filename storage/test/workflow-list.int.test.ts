import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWorkflows, WORKFLOW_SORTS, type Database } from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';

// Issue 12: the workflow list orders by the started_at column (an index gives the newest-first
// page), not by the select list's ISO text of it. Every order must still be what sorting the
// rows in plain code gives: the sort key, then start time newest first, then workflow id.
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Row {
  id: string;
  type: string;
  startMs: number;
  durationMs: number;
  spans: number;
  errors: number;
}

describe.each<Driver>(['postgres', 'pglite'])('workflow list orders on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const rand = prng(3);
  // Start times on whole seconds (ties), durations, span and error counts with ties.
  const rows: Row[] = Array.from({ length: 120 }, (_, i) => ({
    id: `wf-${String(1000 - i).padStart(4, '0')}-${Math.floor(rand() * 10)}`,
    type: i % 3 === 0 ? 'login' : 'checkout',
    startMs: T0 + Math.floor(rand() * 40) * 1000 + (i % 7 === 0 ? 123 : 0),
    durationMs: Math.floor(rand() * 5) * 10,
    spans: 1 + Math.floor(rand() * 4),
    errors: Math.floor(rand() * 2),
  }));

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    for (const r of rows) {
      await db.query(
        `INSERT INTO workflow_sessions (workflow_id, workflow_type, status, started_at, ended_at, span_count, error_count)
         VALUES ($1, $2, 'completed', $3::timestamptz, $4::timestamptz, $5, $6)`,
        [r.id, r.type, new Date(r.startMs).toISOString(), new Date(r.startMs + r.durationMs).toISOString(), r.spans, r.errors],
      );
    }
  });
  afterAll(async () => {
    await dispose();
  });

  const keys: Record<string, (r: Row) => number> = {
    '-started_at': (r) => -r.startMs,
    started_at: (r) => r.startMs,
    '-duration_ms': (r) => -r.durationMs,
    duration_ms: (r) => r.durationMs,
    '-error_count': (r) => -r.errors,
    '-span_count': (r) => -r.spans,
  };

  it('gives every order as sorting in plain code does, with filters and pages', async () => {
    expect(Object.keys(WORKFLOW_SORTS).sort()).toEqual(Object.keys(keys).sort());
    for (const [sort, key] of Object.entries(keys)) {
      for (const type of [undefined, 'login']) {
        const expected = rows
          .filter((r) => type === undefined || r.type === type)
          .sort((a, b) => key(a) - key(b) || (sort === 'started_at' ? 0 : b.startMs - a.startMs) || (a.id < b.id ? -1 : 1))
          .map((r) => r.id);
        for (const [limit, offset] of [[500, 0], [7, 0], [7, 14]] as const) {
          const page = await listWorkflows(db, { workflowType: type, fromMs: T0, toMs: T0 + 60_000 }, { limit, offset }, sort);
          expect(page.data.map((d) => d.workflow_id), `${sort} ${type} ${limit}/${offset}`).toEqual(expected.slice(offset, offset + limit));
          expect(page.total).toBe(expected.length);
        }
      }
    }
  });
});
