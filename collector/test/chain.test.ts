import { describe, expect, it } from 'vitest';
import { errors } from '@flowscope/common';
import { SNAPSHOT_METRICS } from '@flowscope/storage';
import { createCollectorMetrics } from '../src/metrics.ts';
import { Chain, drop, pass, type Stage } from '../src/stage.ts';
import { deriveStage, gateStage, mapStage, redactStage, sampleStage, validateStage, type DecodedBatch, type ExportBatch, type RowsBatch, type SampledBatch } from '../src/stages.ts';
import { DEFAULT_VALUE_LIMITS } from '../src/validate.ts';
import { Redactor, REDACTED } from '../src/redact.ts';
import { TraceWorkflowCache } from '../src/map.ts';
import { OperationCatalog } from '../src/opstats.ts';
import { TailSampler } from '../src/sampler.ts';
import { spanId } from './helpers.ts';
import { decodedBatch, decodedSpan, harness, recorder, request, rowsBatch, seriesOf, T, valueOf } from './chain-helpers.ts';

const stage = (name: string, f: Stage<ExportBatch, ExportBatch>['process']): Stage<ExportBatch, ExportBatch> => ({ name, process: f });
const batchOf = (n: number) => decodedBatch(request(Array.from({ length: n }, (_, i) => decodedSpan({ spanId: spanId(i) }))));

describe('the chain', () => {
  it('passes each batch to the next stage, counting spans in as received and out as accepted', async () => {
    const metrics = createCollectorMetrics();
    const next = recorder<ExportBatch>();
    const chain = Chain.start<ExportBatch>(metrics)
      .then(stage('double', (b) => pass({ ...b, rejectionMessage: `${b.rejectionMessage}a` })))
      .then(stage('again', (b) => pass({ ...b, rejectionMessage: `${b.rejectionMessage}b` })))
      .then(next);
    expect(chain.names).toEqual(['double', 'again', 'recorder']);
    const r = await chain.run(batchOf(3));
    expect(next.seen.map((b) => b.rejectionMessage)).toEqual(['ab']);
    expect('batch' in r && r.batch.rejectionMessage).toBe('ab');
    expect(await valueOf(metrics.received)).toBe(3);
    expect(await valueOf(metrics.accepted)).toBe(3);
    expect(await seriesOf(metrics.refused)).toEqual([]);
  });

  it('counts spans a stage refuses on the way under their reason and passes the rest on', async () => {
    const metrics = createCollectorMetrics();
    const next = recorder<ExportBatch>();
    const chain = Chain.start<ExportBatch>(metrics)
      .then(stage('halve', (b) => pass({ ...b, spanCount: 2 }, { reason: 'invalid', spans: 3 })))
      .then(stage('none', (b) => pass(b, { reason: 'other', spans: 0 })))
      .then(next);
    await chain.run(batchOf(5));
    expect(next.seen.map((b) => b.spanCount)).toEqual([2]);
    expect(await valueOf(metrics.refused, { reason: 'invalid' })).toBe(3);
    // nothing refused: no series
    expect(await seriesOf(metrics.refused)).toEqual([{ reason: 'invalid' }]);
    expect(await valueOf(metrics.accepted)).toBe(2);
  });

  it('a drop with an error refuses the batch: counted under its reason, thrown, the next stage never called', async () => {
    const metrics = createCollectorMetrics();
    const next = recorder<ExportBatch>();
    const err = errors.queueFull(2);
    const chain = Chain.start<ExportBatch>(metrics)
      .then(stage('refuse', (b) => drop(err.reason, b.spanCount, err)))
      .then(next);
    await expect(chain.run(batchOf(4))).rejects.toBe(err);
    expect(next.seen).toEqual([]);
    expect(await valueOf(metrics.refused, { reason: 'queue_full' })).toBe(4);
    expect(await valueOf(metrics.accepted)).toBe(0);
    expect(await valueOf(metrics.received)).toBe(4);
  });

  it('a drop without an error acknowledges the batch: accepted, reported with the batch it ended at', async () => {
    const metrics = createCollectorMetrics();
    const next = recorder<ExportBatch>();
    const chain = Chain.start<ExportBatch>(metrics)
      .then(stage('mark', (b) => pass({ ...b, rejected: 7 })))
      .then(stage('stop', (b) => drop('disabled', b.spanCount)))
      .then(next);
    const r = await chain.run(batchOf(2));
    expect(next.seen).toEqual([]);
    expect('drop' in r && [r.drop.reason, r.at.rejected]).toEqual(['disabled', 7]);
    expect(await valueOf(metrics.accepted)).toBe(2);
    expect(await seriesOf(metrics.refused)).toEqual([]);
  });
});

describe('stages', () => {
  it('validate: passes valid spans on, refuses the others as invalid with the partial-success message', async () => {
    const { metrics, next, chain } = harness(validateStage(DEFAULT_VALUE_LIMITS));
    await chain.run(decodedBatch(request([decodedSpan(), decodedSpan({ spanId: 'ab' }), decodedSpan({ spanId: spanId(2), name: 'n'.repeat(600) })])));
    const [b] = next.seen;
    expect(b!.spanCount).toBe(2);
    expect(b!.rejected).toBe(1);
    expect(b!.rejectionMessage).toMatch(/^1 span\(s\): invalid span id/);
    expect(b!.request.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) => s.name.length)).toEqual([2, DEFAULT_VALUE_LIMITS.maxNameChars]);
    expect(await valueOf(metrics.refused, { reason: 'invalid' })).toBe(1);
    expect(await valueOf(metrics.accepted)).toBe(2);
  });

  it('redact: the next stage sees secrets replaced; they are counted', async () => {
    const metrics = createCollectorMetrics();
    const next = recorder<DecodedBatch>();
    const chain = Chain.start<ExportBatch, DecodedBatch>(metrics).then(redactStage(new Redactor(), metrics.redacted)).then(next);
    await chain.run(decodedBatch(request([decodedSpan({ attributes: { password: 'p', route: '/x' } })])));
    expect(next.seen[0]!.request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes).toEqual({ password: REDACTED, route: '/x' });
    expect(await valueOf(metrics.redacted)).toBe(1);
  });

  it('map: the next stage gets one row per span, the trace ids, and the span count of the rows', async () => {
    const cache = new TraceWorkflowCache(10);
    const { next, chain } = harness(mapStage(cache));
    await chain.run(decodedBatch(request([decodedSpan({ attributes: { 'workflow.type': 'checkout', 'workflow.id': 'o-1' } }), decodedSpan({ spanId: spanId(2) })])));
    const [b] = next.seen;
    expect(b!.spans.map((s) => [s.workflowType, s.workflowId])).toEqual([
      ['checkout', 'o-1'],
      ['checkout', 'o-1'],
    ]);
    expect([b!.traceIds, b!.spanCount, 'request' in b!]).toEqual([[T], 2, false]);
    // what it learned is remembered for later requests of the trace
    expect(cache.size).toBe(1);
  });

  it.each([
    ['disabled', false, 2, 'disabled', 2],
    ['enabled, nothing left', true, 0, 'empty', 0],
  ] as const)('gate: %s → acknowledged without storing', async (_name, enabled, spans, reason, accepted) => {
    const { metrics, next, chain } = harness(gateStage(enabled));
    const r = await chain.run(rowsBatch(request(Array.from({ length: spans }, (_, i) => decodedSpan({ spanId: spanId(i) })))));
    expect(next.seen).toEqual([]);
    expect('drop' in r && r.drop.reason).toBe(reason);
    expect(await valueOf(metrics.accepted)).toBe(accepted);
  });

  it('gate: enabled with spans → passed on', async () => {
    const { next, chain } = harness(gateStage(true));
    await chain.run(rowsBatch(request([decodedSpan()])));
    expect(next.seen.map((b) => b.spanCount)).toEqual([1]);
  });

  it.each([
    ['performance monitoring with baselines', true, true, 1, 1],
    ['performance monitoring without baselines', true, false, 1, 0],
    ['no performance monitoring', false, true, 0, 0],
  ])('derive: %s', async (_name, performanceMonitoring, baselines, deltas, opDeltas) => {
    const { next, chain } = harness(deriveStage({ performanceMonitoring, operations: baselines ? new OperationCatalog(10) : undefined }));
    await chain.run(rowsBatch(request([decodedSpan(), decodedSpan({ spanId: spanId(2), statusCode: 2 })])));
    const [b] = next.seen;
    expect(b!.deltas.length).toBe(deltas);
    if (deltas) expect(b!.deltas[0]).toMatchObject({ metric: SNAPSHOT_METRICS.duration, count: 2, errorCount: 1, sum: 2000 });
    // one minute row (hour rows are summed from minute rows when they are folded)
    expect(b!.opDeltas.length).toBe(opDeltas);
    if (opDeltas) expect(b!.opDeltas[0]).toMatchObject({ bucketSeconds: 60, count: 2, errorCount: 1 });
  });

  it('sample: keeps interesting traces and holds the rest; every span is observed; decisions counted', async () => {
    const sampler = new TailSampler({ rate: 0, rates: new Map(), criticalMs: () => 1e9, decisionWaitMs: 60_000, maxHeldSpans: 100, maxHeldBytes: 1e6 });
    const metrics = createCollectorMetrics();
    const shared: string[][] = [];
    const next = recorder<SampledBatch>();
    const chain = Chain.start<ExportBatch, RowsBatch>(metrics)
      .then(deriveStage({ performanceMonitoring: false }))
      .then(sampleStage({ sampler, metrics, shareKeep: (ids) => shared.push(ids) }))
      .then(next);
    const failing = 'cd'.repeat(16);
    await chain.run(rowsBatch(request([decodedSpan(), decodedSpan({ traceId: failing, statusCode: 2 })])));
    const [b] = next.seen;
    expect(b!.observations.map((o) => [o.traceId, o.kept])).toEqual([
      [T, false],
      [failing, true],
    ]);
    expect(b!.spanCount).toBe(2);
    expect(shared).toEqual([[failing]]);
    expect(await valueOf(metrics.sampled, { reason: 'held' })).toBe(1);
    expect(await valueOf(metrics.sampled, { reason: 'error' })).toBe(1);
    expect(await valueOf(metrics.heldSpans)).toBe(1);
    expect(await valueOf(metrics.accepted)).toBe(2);
  });
});
