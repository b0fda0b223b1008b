import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { pino } from 'pino';
import { errorsOfWorkflow, type Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { createCollectorMetrics } from '../src/metrics.ts';
import { GroupCommitWriter } from '../src/writer.ts';
import { TailSampler } from '../src/sampler.ts';
import { SpanPrometheusMetrics } from '../src/spanmetrics.ts';
import { Chain } from '../src/stage.ts';
import { deriveStage, observeStage, sampleStage, writeStage, type ExportBatch, type RowsBatch, type WrittenBatch } from '../src/stages.ts';
import { spanId, traceId } from './helpers.ts';
import { decodedSpan, recorder, request, rowsBatch, seriesOf, valueOf } from './chain-helpers.ts';

// The write and observe stages against a real group-commit writer (PGlite), each followed by a
// recording next stage.
describe('write and observe stages', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('pglite'));
  });
  afterAll(async () => dispose());

  const setup = (options: { performanceMonitoring?: boolean; errorLogging?: boolean } = {}) => {
    const metrics = createCollectorMetrics();
    const writer = new GroupCommitWriter(db, { maxBatchSpans: 1000, maxQueueSpans: 10_000, lingerMs: 0, retryAfterSeconds: 1 }, metrics, pino({ level: 'silent' }));
    const sampler = new TailSampler({ rate: 1, rates: new Map(), criticalMs: () => 1e9, decisionWaitMs: 60_000, maxHeldSpans: 100, maxHeldBytes: 1e6 });
    const registry = new Registry();
    const spanMetrics = new SpanPrometheusMetrics(registry, 10, db);
    const next = recorder<WrittenBatch>();
    const chain = Chain.start<ExportBatch, RowsBatch>(metrics)
      .then(deriveStage({ performanceMonitoring: options.performanceMonitoring ?? true }))
      .then(sampleStage({ sampler, metrics }))
      .then(writeStage({ writer, errorLogging: options.errorLogging ?? true }))
      .then(observeStage(spanMetrics, options.performanceMonitoring ?? true));
    return { metrics, writer, registry, next, chain: chain.then(next) };
  };

  const failingRequest = () => {
    const t = traceId();
    return request([decodedSpan({ traceId: t }), decodedSpan({ traceId: t, spanId: spanId(2), statusCode: 2, statusMessage: 'boom' })]);
  };

  it('write: commits the kept spans and their errors, then passes the result on; a retry is a duplicate request', async () => {
    const { metrics, next, chain, writer } = setup();
    const req = failingRequest();
    const body = Buffer.from(`body ${req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId}`);
    await chain.run(rowsBatch(req, body));
    await chain.run(rowsBatch(req, body));
    expect(next.seen.map((b) => [b.write.inserted, b.write.duplicates, b.write.duplicateRequest])).toEqual([
      [2, 0, false],
      [0, 2, true],
    ]);
    expect(await valueOf(metrics.stored)).toBe(2);
    expect(await valueOf(metrics.accepted)).toBe(4);
    const t = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId;
    expect((await errorsOfWorkflow(db, t)).map((e) => [e.span_id, e.message])).toEqual([[spanId(2), 'boom']]);
    await writer.close();
  });

  it('write: a refused write refuses the whole batch under the error reason and throws it', async () => {
    const { metrics, next, chain, writer } = setup();
    await writer.close();
    await expect(chain.run(rowsBatch(failingRequest()))).rejects.toMatchObject({ code: 'FS_SHUTTING_DOWN', statusCode: 503 });
    expect(next.seen).toEqual([]);
    expect(await valueOf(metrics.refused, { reason: 'shutting_down' })).toBe(2);
    expect(await valueOf(metrics.accepted)).toBe(0);
  });

  it('write: without error logging no error rows are written', async () => {
    const { next, chain, writer } = setup({ errorLogging: false });
    const req = failingRequest();
    await chain.run(rowsBatch(req, Buffer.from(`no errors ${req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId}`)));
    expect(next.seen[0]!.write.inserted).toBe(2);
    const t = req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId;
    // without a workflow id the workflow is the trace
    expect(await errorsOfWorkflow(db, t)).toEqual([]);
    await writer.close();
  });

  it('observe: the Prometheus span series count a request once, not again when it is retried', async () => {
    const { registry, chain, writer } = setup();
    const req = failingRequest();
    const body = Buffer.from(`observe ${req.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.traceId}`);
    await chain.run(rowsBatch(req, body));
    await chain.run(rowsBatch(req, body));
    const errorsTotal = registry.getSingleMetric('debugging_errors_total')!;
    expect(await valueOf(errorsTotal as never, { workflow_type: 'unknown', layer: 'service', error_type: 'Error' })).toBe(1);
    await writer.close();
  });

  it('observe: without performance monitoring no span series are kept', async () => {
    const { registry, chain, writer } = setup({ performanceMonitoring: false });
    await chain.run(rowsBatch(failingRequest(), Buffer.from(`quiet ${Math.random()}`)));
    expect(await seriesOf(registry.getSingleMetric('debugging_errors_total') as never)).toEqual([]);
    await writer.close();
  });
});
