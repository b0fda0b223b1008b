import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTraceIds, writeSpans, type Database, type SpanRecord, type TagMatch } from '../src/index.ts';
import { openTestDatabase, type Driver } from '../src/testing.ts';
import { hex, span } from './fixtures.ts';

// Issue 12: a Jaeger search with an attribute tag reads the service's spans newest first, then
// asks the tag index (migration 0007) for the rest of the range in time windows. Whichever way
// a search goes (scanRows decides where the walk stops), it must answer exactly what reading
// every span of the service answers: the traces with a matching span, the one with the most
// recent matching span first, ties by trace id, at most `limit`.
const HOUR = 3_600_000;
const H0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** What `attributes ->> k` gives for a stored value (null when absent or JSON null). */
function text(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `[${(v as unknown[]).map((x) => JSON.stringify(x)).join(', ')}]`; // jsonb's text of an array (only arrays of scalars here)
}

function spans(): SpanRecord[] {
  const rand = prng(12);
  const out: SpanRecord[] = [];
  // 400 traces over the hour, 1–4 spans each on the gateway (start times on whole seconds, so
  // traces tie), some on another service; a rare user tag, a common status, a boolean, a
  // resource attribute that differs by host.
  for (let i = 0; i < 400; i++) {
    const start = H0 + Math.floor(rand() * 3600) * 1000;
    const n = 1 + Math.floor(rand() * 4);
    const user = `user-${Math.floor(rand() * 60)}`;
    for (let k = 0; k < n; k++) {
      const other = rand() < 0.2;
      out.push(
        span({
          traceId: hex(5000 + i, 32),
          spanId: hex(i * 8 + k + 1, 16),
          workflowId: `wf-${i}`,
          component: other ? 'orders' : 'api-gateway',
          startMs: start + Math.floor(rand() * 3) * 1000,
          attributes: {
            'enduser.id': user,
            'http.response.status_code': rand() < 0.1 ? 500 : 200,
            'app.cached': rand() < 0.5,
            'app.ratio': rand() < 0.5 ? 0.5 : 1.25,
            'app.code': rand() < 0.5 ? '500' : 'x',
            'app.list': ['a', 'b'],
          },
          resource: { 'service.name': other ? 'orders' : 'api-gateway', 'host.name': `gw-${i % 3}` },
        }),
      );
    }
  }
  return out;
}

describe.each<Driver>(['postgres', 'pglite'])('Jaeger search by tag through the tag index on %s', (driver) => {
  let db: Database;
  let dispose: () => Promise<void>;
  const all = spans();

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase(driver));
    for (let i = 0; i < all.length; i += 200) await writeSpans(db, { spans: all.slice(i, i + 200), errors: [] });
  });
  afterAll(async () => {
    await dispose();
  });

  /** Every span read: the answer a search must give. */
  function reference(service: string, fromMs: number, toMs: number, tags: [string, string][], limit: number): string[] {
    const latest = new Map<string, number>();
    for (const s of all) {
      const us = Number(s.startUnixNano / 1000n);
      if (s.component !== service || us < fromMs * 1000 || us > toMs * 1000 + 999) continue;
      if (!tags.every(([k, v]) => text(s.attributes[k]) === v || text(s.resource[k]) === v)) continue;
      latest.set(s.traceId, Math.max(latest.get(s.traceId) ?? 0, us));
    }
    return [...latest].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([id]) => id).slice(0, limit);
  }

  it('answers what reading every span answers, whether it stops early, walks on or asks the index', async () => {
    const cases: [string, [string, string][]][] = [
      ['api-gateway', [['enduser.id', 'user-7']]], // rare
      ['api-gateway', [['http.response.status_code', '500']]], // a number
      ['api-gateway', [['http.response.status_code', '200']]], // common
      ['api-gateway', [['app.cached', 'true']]], // a boolean
      ['api-gateway', [['app.ratio', '0.5']]], // a fraction
      ['api-gateway', [['app.code', '500']]], // the string '500', not the number
      ['api-gateway', [['host.name', 'gw-1']]], // a resource attribute
      ['api-gateway', [['enduser.id', 'user-3'], ['app.cached', 'false']]], // two tags
      ['api-gateway', [['enduser.id', 'user-none']]], // nothing
      ['api-gateway', [['app.list', '["a", "b"]']]], // an array: not looked up in the index, still found
      ['orders', [['enduser.id', 'user-11']]], // another service
    ];
    const ranges: [number, number][] = [
      [H0, H0 + HOUR],
      [H0 + 600_000, H0 + 1_900_000],
    ];
    let nonEmpty = 0;
    for (const [service, tags] of cases) {
      for (const [from, to] of ranges) {
        for (const limit of [1, 3, 20, 1000]) {
          const expected = reference(service, from, to, tags, limit);
          if (expected.length > 0) nonEmpty++;
          for (const scanRows of [1, 2, 7, 64, undefined]) {
            const got = await findTraceIds(db, {
              service, startFrom: iso(from), startTo: iso(to), tags: tags.map(([attribute, value]): TagMatch => ({ attribute, value })), limit, scanRows,
            });
            expect(got, `${service} ${JSON.stringify(tags)} ${iso(from)}..${iso(to)} limit ${limit} scanRows ${scanRows}`).toEqual(expected);
          }
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(60);
  });

  it('has the tag index on attributes and resource', async () => {
    const [idx] = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'trace_steps_tags_idx'`);
    expect(idx?.indexdef).toMatch(/USING gin \(attributes jsonb_path_ops, resource jsonb_path_ops\)/);
  });
});
