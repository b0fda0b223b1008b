/**
 * Benchmarks. Speed is printed as ratios against a baseline measured in the same run on the
 * same machine, never asserted in tests.
 *
 *   writer: spans/s of storage's writeSpanBatch (COPY into staging + idempotent move + session
 *           upsert) against the raw COPY limit (COPY straight into an unindexed copy of
 *           trace_steps) and against a multi-row INSERT … unnest for comparison.
 *   ingest: spans/s through the collector's HTTP pipeline (protobuf, app.inject) against the
 *           writer alone.
 *
 * Needs PostgreSQL (FLOWSCOPE_TEST_ADMIN_URL). BENCH_SPANS sets the spans per measurement.
 */
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { pino } from 'pino';
import { copyLine, nanosToIso, openPostgres, migrate, ensurePartitions, writeSpans, type SpanRecord } from '@flowscope/storage';
import { createTestDatabase } from '@flowscope/storage/testing';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';

const TOTAL = Number(process.env.BENCH_SPANS ?? 100_000);
const BATCH = 5_000;

function makeSpans(n: number, seed: number): SpanRecord[] {
  const now = BigInt(Date.now()) * 1_000_000n;
  return Array.from({ length: n }, (_, i) => {
    const t = (seed * 10_000_000 + Math.floor(i / 10)).toString(16).padStart(32, '0');
    return {
      traceId: t,
      spanId: (i % 10 + 1).toString(16).padStart(16, '0'),
      parentSpanId: i % 10 === 0 ? null : '0000000000000001',
      workflowId: `wf-${seed}-${Math.floor(i / 10)}`,
      workflowType: 'checkout',
      layer: i % 10 === 0 ? 'api' : 'database',
      component: 'bench-svc',
      name: i % 10 === 0 ? 'POST /checkout' : 'SELECT orders',
      kind: 2,
      statusCode: 0,
      statusMessage: null,
      isError: false,
      startUnixNano: now + BigInt(i) * 1000n,
      endUnixNano: now + BigInt(i) * 1000n + 3_000_000n,
      userId: 'user-1',
      scopeName: 'bench',
      attributes: { 'http.route': '/checkout', 'db.system': 'postgresql', 'workflow.type': 'checkout' },
      resource: { 'service.name': 'bench-svc' },
      events: [],
      links: [],
    };
  });
}

async function timeIt(label: string, fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const s = (performance.now() - t0) / 1000;
  const rate = TOTAL / s;
  console.log(`${label.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} spans/s`);
  return rate;
}

async function main() {
  const tdb = await createTestDatabase('fs_bench');
  const db = openPostgres({ url: tdb.url, maxConnections: 4 });
  const sql = postgres(tdb.url, { max: 1, onnotice: () => {} });
  try {
    await migrate(db);
    await ensurePartitions(db);
    await sql.unsafe(`CREATE UNLOGGED TABLE raw_copy (LIKE trace_steps INCLUDING DEFAULTS)`);
    await sql.unsafe(`ALTER TABLE raw_copy SET LOGGED`);
    const cols = 'trace_id, span_id, parent_span_id, workflow_id, workflow_type, layer, component, name, kind, status_code, status_message, is_error, start_time, end_time, duration_ms, user_id, scope_name, attributes, resource, events, links';
    const values = (s: SpanRecord) => [s.traceId, s.spanId, s.parentSpanId, s.workflowId, s.workflowType, s.layer, s.component, s.name, s.kind, s.statusCode, s.statusMessage, s.isError, nanosToIso(s.startUnixNano), nanosToIso(s.endUnixNano), Number(s.endUnixNano - s.startUnixNano) / 1e6, s.userId, s.scopeName, s.attributes, s.resource, s.events, s.links];

    console.log(`flowscope benchmarks — ${TOTAL.toLocaleString('en-US')} spans per measurement, batches of ${BATCH}\n`);
    // Warm up connections and caches.
    await writeSpans(db, { spans: makeSpans(1000, 999), errors: [] });

    // Methods run interleaved, batch by batch, and each rate is the median over batches, so
    // load from other processes on the machine hits every method alike.
    const rounds = TOTAL / BATCH;
    const methods: { label: string; run: (round: number) => Promise<void>; times: number[] }[] = [
      {
        label: 'baseline: raw COPY (no indexes, no dedup)',
        times: [],
        run: async (r) => {
          const spans = makeSpans(BATCH, 1000 + r);
          await sql.begin(async (tx) => {
            const w = await tx.unsafe(`COPY raw_copy (${cols}) FROM STDIN`).writable();
            await pipeline(Readable.from([spans.map((s) => copyLine(values(s))).join('')]), w);
          });
        },
      },
      {
        label: 'baseline: raw COPY into trace_steps (indexed)',
        times: [],
        run: async (r) => {
          const spans = makeSpans(BATCH, 5000 + r);
          await sql.begin(async (tx) => {
            const w = await tx.unsafe(`COPY trace_steps (${cols}) FROM STDIN`).writable();
            await pipeline(Readable.from([spans.map((s) => copyLine(values(s))).join('')]), w);
          });
        },
      },
      {
        label: 'multi-row INSERT … jsonb_populate_recordset',
        times: [],
        run: async (r) => {
          const spans = makeSpans(BATCH, 2000 + r);
          const rows = spans.map((s) => Object.fromEntries(cols.split(', ').map((c, i) => [c, values(s)[i]])));
          await sql.unsafe(
            `INSERT INTO raw_copy (${cols}) SELECT ${cols} FROM jsonb_populate_recordset(NULL::raw_copy, $1::text::jsonb)`,
            [JSON.stringify(rows)],
          );
        },
      },
      {
        label: 'writer: staging COPY + ON CONFLICT + sessions',
        times: [],
        run: async (r) => {
          await writeSpans(db, { spans: makeSpans(BATCH, 3000 + r), errors: [] });
        },
      },
      {
        label: 'writer: re-delivery of the same spans',
        times: [],
        run: async (r) => {
          await writeSpans(db, { spans: makeSpans(BATCH, 3000 + r), errors: [] });
        },
      },
    ];
    for (let r = 0; r < rounds; r++) {
      for (const m of methods) {
        const t0 = performance.now();
        await m.run(r);
        m.times.push(performance.now() - t0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const rates = methods.map((m) => {
      const rate = BATCH / (median(m.times) / 1000);
      console.log(`${m.label.padEnd(48)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} spans/s (median of ${rounds})`);
      return rate;
    });
    const [copyRate, copyIndexedRate, insertRate, writerRate, dupRate] = rates as [number, number, number, number, number];

    // Ingest through the collector's HTTP pipeline (protobuf bodies of 1000 spans each).
    const { ExportTraceServiceRequest } = await import('../collector/src/otlp.ts');
    const makeBodies = (seed: number) =>
      Array.from({ length: TOTAL / 1000 }, (_, b) => {
        const spans = makeSpans(1000, seed + b);
        return Buffer.from(
          ExportTraceServiceRequest.encode(
            ExportTraceServiceRequest.fromObject({
              resourceSpans: [
                {
                  resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench-svc' } }] },
                  scopeSpans: [
                    {
                      spans: spans.map((s) => ({
                        traceId: Buffer.from(s.traceId, 'hex'),
                        spanId: Buffer.from(s.spanId, 'hex'),
                        parentSpanId: s.parentSpanId ? Buffer.from(s.parentSpanId, 'hex') : undefined,
                        name: s.name,
                        kind: 2,
                        startTimeUnixNano: s.startUnixNano.toString(),
                        endTimeUnixNano: s.endUnixNano.toString(),
                        attributes: [
                          { key: 'workflow.type', value: { stringValue: 'checkout' } },
                          { key: 'workflow.id', value: { stringValue: s.workflowId } },
                          { key: 'db.system', value: { stringValue: 'postgresql' } },
                        ],
                      })),
                    },
                  ],
                },
              ],
            }),
          ).finish(),
        );
      });
    const ingest = (label: string, rate: string, bodies: Buffer[]) =>
      timeIt(label, async () => {
        const collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: rate, FLOWSCOPE_SAMPLING_DECISION_WAIT_MS: '0' }), logger: pino({ level: 'silent' }) });
        let next = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (next < bodies.length) {
              const body = bodies[next++]!;
              const res = await collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: body });
              if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${res.body}`);
            }
          }),
        );
        await collector.close();
      });
    const bodies = makeBodies(4000);
    const ingestRate = await ingest('collector: HTTP protobuf, 8 concurrent, keep all', '1', bodies);
    const sampledRate = await ingest('collector: same at sampling rate 0.1', '0.1', makeBodies(7000));

    // The ingest stages alone (decode → validate → redact → map → span metrics → sample), no storage:
    // how far the collector's CPU work is from being the limit.
    const { decodeExport } = await import('../collector/src/decode.ts');
    const { validateExport } = await import('../collector/src/validate.ts');
    const { Redactor } = await import('../collector/src/redact.ts');
    const { mapExport } = await import('../collector/src/map.ts');
    const { deriveSnapshotDeltas } = await import('../collector/src/spanmetrics.ts');
    const { TailSampler } = await import('../collector/src/sampler.ts');
    const redactor = new Redactor();
    const sampler = new TailSampler({ rate: 1, rates: new Map(), criticalMs: () => 500, decisionWaitMs: 0, maxHeldSpans: 0, maxHeldBytes: 0 });
    const stagesRate = await timeIt('collector stages only (no storage)', async () => {
      for (const body of bodies) {
        const { valid } = validateExport(decodeExport(body, 'protobuf'));
        redactor.export(valid);
        const mapped = mapExport(valid);
        deriveSnapshotDeltas(mapped.spans);
        sampler.sample(mapped.spans, mapped.errors);
      }
    });

    console.log('\nratios (higher is better):');
    console.log(`  writer / raw COPY            ${(writerRate / copyRate).toFixed(2)}`);
    console.log(`  writer / indexed raw COPY    ${(writerRate / copyIndexedRate).toFixed(2)}`);
    console.log(`  INSERT unnest / raw COPY     ${(insertRate / copyRate).toFixed(2)}`);
    console.log(`  re-delivery / raw COPY       ${(dupRate / copyRate).toFixed(2)}`);
    console.log(`  collector HTTP / writer      ${(ingestRate / writerRate).toFixed(2)}`);
    console.log(`  collector at 0.1 / writer    ${(sampledRate / writerRate).toFixed(2)}`);
    console.log(`  stages (1 core) / writer     ${(stagesRate / writerRate).toFixed(2)}`);
  } finally {
    await sql.end();
    await db.close();
    await tdb.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
