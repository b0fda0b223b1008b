import { performance } from 'node:perf_hooks';
import { writeSpans, type SpanRecord } from '@flowscope/storage';
import type { BenchSection } from '../lib/context.ts';
import { benchDatabase, workloadRecords } from '../lib/db.ts';
import { prng } from '../lib/workload.ts';

/**
 * storage's span writer on its own (COPY into staging, INSERT … ON CONFLICT DO NOTHING, session
 * upsert) on one connection, in transactions of 10,000 spans, against the raw COPY of the copy
 * section (same rows, one connection); and a re-delivery of the same spans (all duplicates).
 */
export const writerSection: BenchSection = {
  name: 'writer',
  async run(ctx) {
    const n = ctx.sizes.writerSpans;
    const t = await benchDatabase('fs_bench_writer');
    try {
      const records = workloadRecords(prng(2), n);
      await writeSpans(t.db, { spans: workloadRecords(prng(3), 1000), errors: [] }); // warm up
      const run = async (spans: readonly SpanRecord[]) => {
        const t0 = performance.now();
        for (let i = 0; i < spans.length; i += 10_000) await writeSpans(t.db, { spans: spans.slice(i, i + 10_000), errors: [] });
        return spans.length / ((performance.now() - t0) / 1000);
      };
      const copy = ctx.find('copy', 'COPY into indexed trace_steps, 1 connection');
      for (const [name, rate] of [
        ['writer (staging COPY + ON CONFLICT + sessions), 1 connection', await run(records)],
        ['writer, re-delivery of the same spans', await run(records)],
      ] as const) {
        ctx.add({ section: 'writer', name, value: rate, unit: 'spans/s', baseline: copy ? 'COPY, 1 connection' : 'none (copy section not run)', ratio: copy ? rate / copy.value : null, extra: { spans: n } });
      }
    } finally {
      await t.dispose();
    }
  },
};
