import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSpansForAnalysis, spansOf, writeSpans, type Database } from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { hex, span } from './fixtures.ts';

// readSpansForAnalysis bounds its read by the earliest started_at of the workflows' sessions
// (partition pruning): every span must still be read, across daily partitions and when a
// workflow's spans arrived out of order, compared with the unbounded reader (spansOf).
const DAY = 86_400_000;
const HOUR = 3_600_000;
const MIDNIGHT = Math.floor(Date.now() / DAY) * DAY; // today 00:00 UTC: yesterday's partition ends here

describe.each<Driver>(['postgres', 'pglite'])('spans for analysis across partitions on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    const s = (workflowId: string, trace: number, id: number, startMs: number, parent: number | null = null) =>
      span({ traceId: hex(trace, 32), spanId: hex(id, 16), parentSpanId: parent === null ? null : hex(parent, 16), workflowId, startMs, durationMs: 50 });
    // wf-night: its root started yesterday, 100 ms before midnight, a child and a later trace today.
    await writeSpans(db, { spans: [s('wf-night', 1, 1, MIDNIGHT - 100), s('wf-night', 1, 2, MIDNIGHT + 100, 1), s('wf-night', 2, 3, MIDNIGHT + 2 * HOUR)], errors: [] });
    // wf-late: its later spans arrive first, its root (yesterday evening) in a second batch.
    await writeSpans(db, { spans: [s('wf-late', 3, 4, MIDNIGHT + 3 * HOUR, 5)], errors: [] });
    await writeSpans(db, { spans: [s('wf-late', 3, 5, MIDNIGHT - 5 * HOUR)], errors: [] });
    // wf-today: today only.
    await writeSpans(db, { spans: [s('wf-today', 4, 6, MIDNIGHT + HOUR)], errors: [] });
  });
  afterAll(async () => dispose());

  it('reads every span of each workflow, whichever partition it is in', async () => {
    const ids = ['wf-today', 'wf-night', 'wf-late'];
    const got = await readSpansForAnalysis(db, ids, 100);
    for (const id of ids) {
      const all = (await spansOf(db, { workflowId: id }, 100)).spans;
      expect(got.get(id)!.map((r) => [r.span_id, r.start_us])).toEqual(all.map((r) => [r.span_id, r.start_us]));
    }
    expect(got.get('wf-night')!.map((r) => r.span_id)).toEqual([hex(1, 16), hex(2, 16), hex(3, 16)]);
    expect(got.get('wf-late')!.map((r) => r.span_id)).toEqual([hex(5, 16), hex(4, 16)]);
    // One workflow alone: its own bound.
    expect((await readSpansForAnalysis(db, ['wf-today'], 100)).get('wf-today')!.map((r) => r.span_id)).toEqual([hex(6, 16)]);
    // Over the span limit: left out, and it does not bound the others' read.
    const limited = await readSpansForAnalysis(db, ['wf-late', 'wf-night'], 2);
    expect([...limited.keys()]).toEqual(['wf-late']);
    expect(limited.get('wf-late')!.map((r) => r.span_id)).toEqual([hex(5, 16), hex(4, 16)]);
  });
});
