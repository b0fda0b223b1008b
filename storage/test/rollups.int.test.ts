import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findTraceIds, rebuildRollups, writeSnapshotDeltas, writeSpans, type Database, type SnapshotGroup, type SpanRecord,
} from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { hex, span } from './fixtures.ts';
import { expectSeries, prng, snapshotDeltas } from './snapshot-fixtures.ts';

// Issue 12: performance series read five-minute and hour roll-ups, and a Jaeger search walks a
// service's spans newest first and stops early. Both must answer exactly what the plain
// readings (every minute row; every matching span) answer.
const MIN = 60_000;
const HOUR = 3_600_000;
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR; // three hours ago, on an hour
const iso = (ms: number) => new Date(ms).toISOString();

describe.each<Driver>(['postgres', 'pglite'])('roll-ups and early-stopping search on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const ds = snapshotDeltas(H0);

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    // In several transactions, so roll-up rows are upserted onto, not only inserted.
    for (let i = 0; i < ds.length; i += 50) await db.transaction((tx) => writeSnapshotDeltas(tx, ds.slice(i, i + 50)));
  });
  afterAll(async () => {
    await dispose();
  });

  it('a series equals the minute rows summed, at every step, range end and grouping', async () => {
    const cases: [number, number, number, SnapshotGroup[], string?][] = [
      [H0, H0 + 4 * HOUR, 300, []], // five-minute roll-ups
      [H0, H0 + 4 * HOUR, 3600, ['workflow_type']], // hour roll-ups
      [H0, H0 + 2 * HOUR + 17 * MIN, 7200, ['layer', 'component']], // hour roll-ups, a minute tail
      [H0, H0 + 3 * HOUR + 7 * MIN, 900, [], 'login'], // five-minute roll-ups, a minute tail, a filter
      [H0 + 5 * MIN, H0 + 2 * HOUR, 300, ['component']],
      [H0 + MIN, H0 + 2 * HOUR, 120, []], // minutes only
      [H0, H0 + 4 * MIN, 300, []], // less than one roll-up bucket: minutes only
    ];
    for (const [from, to, step, groupBy, workflowType] of cases) await expectSeries(db, ds, from, to, step, groupBy, workflowType);
  });

  it('rebuilding the roll-ups from the minute rows gives the rows ingest wrote', async () => {
    const read = () =>
      db.query<Record<string, unknown>>(
        `SELECT bucket_seconds, bucket_start, workflow_type, layer, component, metric, count::float8 AS count, error_count::float8 AS e,
                sum, min, max, buckets::text AS b
           FROM performance_rollups ORDER BY 1, 2, 3, 4, 5, 6`,
      );
    const before = await read();
    expect(before.length).toBeGreaterThan(8);
    await rebuildRollups(db, iso(H0 - HOUR), iso(H0 + 5 * HOUR));
    expect(await read()).toEqual(before);
  });

  it('a search stops at the limit yet answers what reading every matching span answers', async () => {
    const rand = prng(9);
    const spans: SpanRecord[] = [];
    // 80 traces, two api-gateway spans each, some sharing a start time; a third carry the tag.
    for (let i = 0; i < 80; i++) {
      const start = H0 + Math.floor(rand() * 30) * 1000;
      const tagged = i % 3 === 0;
      for (let k = 0; k < 2; k++) {
        spans.push(
          span({
            traceId: hex(1000 + i, 32), spanId: hex(i * 2 + k + 1, 16), workflowId: `wf-${i}`, startMs: start + k * 1000 * Math.floor(rand() * 3),
            attributes: { 'http.response.status_code': tagged && k === 1 ? 500 : 200 },
          }),
        );
      }
    }
    await writeSpans(db, { spans, errors: [] });
    const latest = new Map<string, number>();
    const ref = (tagged: boolean) => {
      latest.clear();
      for (const s of spans) {
        if (tagged && s.attributes['http.response.status_code'] !== 500) continue;
        const t = Number(s.startUnixNano / 1000n);
        latest.set(s.traceId, Math.max(latest.get(s.traceId) ?? 0, t));
      }
      return [...latest].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([id]) => id);
    };
    const range = { service: 'api-gateway', startFrom: iso(H0), startTo: iso(H0 + HOUR) };
    for (const limit of [1, 7, 20, 26, 27, 100]) {
      const all = ref(true);
      expect(await findTraceIds(db, { ...range, tags: [{ attribute: 'http.response.status_code', value: '500' }], limit })).toEqual(all.slice(0, limit));
      expect(await findTraceIds(db, { ...range, tags: [], limit })).toEqual(ref(false).slice(0, limit));
    }
    expect(ref(true).length).toBe(27);
  });
});
