import { pino } from 'pino';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';
import { benchDatabase } from './lib/db.ts';
import { BatchTemplate, makeBatch, prng } from './lib/workload.ts';
const baselines = process.argv[2] ?? 'false';
const rate = process.argv[3] ?? '0.1';
const t = await benchDatabase('fs_bench_prof');
const rand = prng(300);
const templates = Array.from({ length: 10 }, () => new BatchTemplate(makeBatch(rand, 500, Date.now())));
const collector = buildCollector({ db: t.db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: rate, FLOWSCOPE_BASELINES_ENABLED: baselines, ...(process.env.NOFOLD ? { FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS: '0', FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS: '3600000' } : {}) }), logger: pino({ level: 'silent' }) });
let next = 0;
const load = async (ms: number) => {
  let spans = 0;
  const end = performance.now() + ms;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (performance.now() < end) {
      const template = templates[next++ % templates.length]!;
      const res = await collector.app.inject({ method: 'POST', url: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' }, payload: Buffer.from(template.renew()) });
      if (res.statusCode !== 200) throw new Error(res.body);
      spans += template.spanCount;
    }
  }));
  return spans;
};
await load(1000);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const spans = await load(8000);
const wd = (await collector.metrics.writeDuration.get()).values;
const sum = wd.find((v) => v.metricName?.endsWith('_sum'))!.value;
const cnt = wd.find((v) => v.metricName?.endsWith('_count'))!.value;
console.log(`flushes ${cnt}, mean flush ${(1000 * sum / cnt).toFixed(1)} ms`);
const t1 = performance.now();
await collector.close();
const closeMs = performance.now() - t1;
const el = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(`baselines=${baselines} rate=${rate}: ${Math.round(spans / el)} spans/s, cpu ${((cpu.user + cpu.system) / spans).toFixed(1)} us/span, close ${closeMs.toFixed(0)} ms`);
await collector.close();
await t.dispose();
