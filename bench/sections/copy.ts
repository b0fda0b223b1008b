import { performance } from 'node:perf_hooks';
import { copyLine, SPAN_COLUMNS, spanValues, type Database, type SpanRecord } from '@flowscope/storage';
import type { BenchSection } from '../lib/context.ts';
import { benchDatabase, workloadRecords } from '../lib/db.ts';
import { prng } from '../lib/workload.ts';

const COPY_BATCH = 10_000; // the writer's default group-commit bound (FLOWSCOPE_WRITER_MAX_BATCH_SPANS)

/** COPYs `spans` into trace_steps in transactions of COPY_BATCH on `connections` concurrent connections. */
export async function copySpans(db: Database, spans: readonly SpanRecord[], connections: number): Promise<number> {
  const chunks: SpanRecord[][] = [];
  for (let i = 0; i < spans.length; i += COPY_BATCH) chunks.push(spans.slice(i, i + COPY_BATCH));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const lines = chunk.map((s) => copyLine(spanValues(s)));
        await db.transaction((tx) => tx.copyIn('trace_steps', SPAN_COLUMNS, lines, () => []));
      }
    }),
  );
  return (performance.now() - t0) / 1000;
}

/**
 * The limit: PostgreSQL's own COPY of the rows the collector stores (the workload, mapped by the
 * collector's stages) into the same schema with the same indexes, on one and two connections.
 * The COPY lines are built inside the timing, as the writer has to build them too.
 */
export const copySection: BenchSection = {
  name: 'copy',
  async run(ctx) {
    const n = ctx.sizes.copySpans;
    const t = await benchDatabase('fs_bench_copy');
    try {
      const records = workloadRecords(prng(1), n);
      await copySpans(t.db, records.slice(0, Math.min(2000, n)), 1); // warm up
      await t.db.query('TRUNCATE trace_steps');
      for (const connections of [1, 2]) {
        const seconds = await copySpans(t.db, records, connections);
        await t.db.query('TRUNCATE trace_steps');
        await t.db.query('CHECKPOINT').catch(() => {}); // needs superuser; then the next run just pays for the previous one's WAL
        const rate = n / seconds;
        ctx.add({
          section: 'copy',
          name: `COPY into indexed trace_steps, ${connections} connection${connections > 1 ? 's' : ''}`,
          value: rate,
          unit: 'spans/s',
          baseline: connections === 1 ? 'itself' : 'COPY, 1 connection',
          ratio: connections === 1 ? 1 : rate / ctx.find('copy', 'COPY into indexed trace_steps, 1 connection')!.value,
          extra: { spans: n },
        });
      }
    } finally {
      await t.dispose();
    }
  },
};
