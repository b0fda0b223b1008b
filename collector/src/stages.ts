import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CATALOG, FlowscopeError } from '@flowscope/common';
import type { ErrorRecord, OperationDelta, SnapshotDelta, SpanObservation, SpanRecord } from '@flowscope/storage';
import type { DecodedExport } from './model.ts';
import { validateExport, type ValueLimits } from './validate.ts';
import type { Redactor } from './redact.ts';
import { mapExport, tracesWithoutWorkflowId, type TraceWorkflowCache } from './map.ts';
import type { ItemResult, WriteItem } from './writer.ts';
import type { CollectorMetrics } from './metrics.ts';
import { deriveSnapshotDeltas } from './deltas.ts';
import type { SpanPrometheusMetrics } from './spanmetrics.ts';
import type { SampleResult, TailSampler } from './sampler.ts';
import { deriveOperationDeltas, type OperationCatalog } from './opstats.ts';
import { drop, pass, type Batch, type Stage } from './stage.ts';

/**
 * The stages of an export request: validate → redact → map → gate → derive metrics → sample →
 * write → observe. Each takes the batch the previous one returned; what every batch carries
 * (ExportBatch) is what the receivers answer with when a batch ends early.
 */
export interface ExportBatch extends Batch {
  /** The request's logger (carries its first trace ids). */
  readonly log: FastifyBaseLogger;
  /** The request body as received (its hash is the write receipt). */
  readonly body: Buffer;
  /** Spans decoded from the request. */
  readonly received: number;
  /** Spans refused as invalid, and why (OTLP partial success). */
  readonly rejected: number;
  readonly rejectionMessage: string;
  /** Traces of the request (known once mapped). */
  readonly traceIds: readonly string[];
}

export interface DecodedBatch extends ExportBatch {
  readonly request: DecodedExport;
}

export interface RowsBatch extends ExportBatch {
  readonly spans: readonly SpanRecord[];
  readonly errors: readonly ErrorRecord[];
}

export interface DerivedBatch extends RowsBatch {
  readonly deltas: readonly SnapshotDelta[];
  readonly opDeltas: readonly OperationDelta[];
}

export interface SampledBatch extends DerivedBatch {
  readonly sampled: SampleResult;
  /** Every span of the request, kept or not (counted in workflow_sessions). */
  readonly observations: readonly SpanObservation[];
}

export interface WrittenBatch extends SampledBatch {
  readonly write: ItemResult;
}

/** Removes spans that cannot be stored (refused as `invalid`) and cuts over-long names. */
export function validateStage(limits: ValueLimits): Stage<DecodedBatch, DecodedBatch> {
  return {
    name: 'validate',
    process(batch) {
      const { valid, rejected, message, truncated } = validateExport(batch.request, limits);
      if (truncated > 0) batch.log.info({ truncated, maxNameChars: limits.maxNameChars }, 'cut over-long names to the limit');
      if (rejected > 0) batch.log.warn({ rejected, problems: message }, 'rejected invalid spans');
      return pass(
        { ...batch, request: valid, spanCount: valid.spanCount, rejected, rejectionMessage: message },
        { reason: ERROR_CATALOG.FS_BAD_REQUEST.reason, spans: rejected },
      );
    },
  };
}

/** Replaces secret attribute values (in place) and counts them. */
export function redactStage(redactor: Redactor, redacted: CollectorMetrics['redacted']): Stage<DecodedBatch, DecodedBatch> {
  return {
    name: 'redact',
    process(batch) {
      redacted.inc(redactor.export(batch.request));
      return pass(batch);
    },
  };
}

/**
 * Maps spans to rows. With replicas sharing Redis it first asks them about traces this request
 * cannot place, and afterwards tells them what it learned.
 */
export function mapStage(traceCache?: TraceWorkflowCache): Stage<DecodedBatch, RowsBatch> {
  return {
    name: 'map',
    async process(batch) {
      if (traceCache?.shares) await traceCache.prefetch(tracesWithoutWorkflowId(batch.request));
      const mapped = mapExport(batch.request, traceCache);
      traceCache?.share();
      const { request: _request, ...rest } = batch;
      return pass({ ...rest, spans: mapped.spans, errors: mapped.errors, traceIds: mapped.traceIds, spanCount: mapped.spans.length });
    },
  };
}

/** Acknowledges without storing when the collector is disabled or nothing is left. */
export function gateStage(enabled: boolean): Stage<RowsBatch, RowsBatch> {
  return {
    name: 'gate',
    process(batch) {
      if (!enabled) return drop('disabled', batch.spanCount);
      if (batch.spanCount === 0) return drop('empty', 0);
      return pass(batch);
    },
  };
}

/** Span metrics and per-operation deltas from every span, before sampling. */
export function deriveStage(options: { performanceMonitoring: boolean; operations?: OperationCatalog | undefined }): Stage<RowsBatch, DerivedBatch> {
  const { performanceMonitoring, operations } = options;
  return {
    name: 'derive',
    process(batch) {
      return pass({
        ...batch,
        deltas: performanceMonitoring ? deriveSnapshotDeltas(batch.spans) : [],
        opDeltas: performanceMonitoring && operations ? deriveOperationDeltas(batch.spans, operations) : [],
      });
    },
  };
}

export interface SampleStageDeps {
  sampler: TailSampler;
  metrics: Pick<CollectorMetrics, 'sampled' | 'rescued' | 'heldSpans' | 'heldBytes'>;
  /** Tells other replicas about traces this one decided to keep because they are interesting. */
  shareKeep?: ((traceIds: string[]) => void) | undefined;
}

/**
 * Tail sampling: decides which spans are stored; every span is still observed (workflow
 * sessions count them) and acknowledged, so nothing is dropped from the batch here.
 */
export function sampleStage({ sampler, metrics, shareKeep }: SampleStageDeps): Stage<DerivedBatch, SampledBatch> {
  return {
    name: 'sample',
    process(batch) {
      const sampled = sampler.sample(batch.spans, batch.errors);
      const kept = new Set(sampled.keep.spans);
      const observations: SpanObservation[] = batch.spans.map((s) => ({
        workflowId: s.workflowId,
        workflowType: s.workflowType,
        userId: s.userId,
        traceId: s.traceId,
        startUnixNano: s.startUnixNano,
        endUnixNano: s.endUnixNano,
        isError: s.isError,
        isRoot: s.parentSpanId === null,
        kept: kept.has(s),
      }));
      for (const [reason, n] of sampled.reasons) metrics.sampled.inc({ reason }, n);
      metrics.rescued.inc(sampled.rescued);
      metrics.heldSpans.set(sampler.heldSpanCount);
      metrics.heldBytes.set(sampler.heldByteCount);
      if (sampled.interesting.length > 0) shareKeep?.(sampled.interesting);
      return pass({ ...batch, sampled, observations });
    },
  };
}

/** The refusal reason of a failed write: the catalog's, or storage_error for anything unexpected. */
const refusalReason = (err: unknown) => (err instanceof FlowscopeError ? err.reason : ERROR_CATALOG.FS_STORAGE_ERROR.reason);

/**
 * Commits the kept spans, the observations and the deltas (group commit); resolves after
 * commit. A refused write refuses the whole request, under the error's reason.
 */
export function writeStage(options: {
  writer: { submit(item: WriteItem): Promise<ItemResult> };
  errorLogging: boolean;
}): Stage<SampledBatch, WrittenBatch> {
  const { writer, errorLogging } = options;
  return {
    name: 'write',
    async process(batch) {
      try {
        const write = await writer.submit({
          spans: batch.sampled.keep.spans,
          errors: errorLogging ? batch.sampled.keep.errors : [],
          observations: batch.observations,
          deltas: batch.deltas,
          opDeltas: batch.opDeltas,
          receipt: createHash('sha256').update(batch.body).digest('base64url'),
        });
        return pass({ ...batch, write });
      } catch (err) {
        return drop(refusalReason(err), batch.spanCount, err);
      }
    },
  };
}

/**
 * The Prometheus span series, after commit and once per request: a retried request was
 * counted when it was first committed.
 */
export function observeStage(spanMetrics: SpanPrometheusMetrics, performanceMonitoring: boolean): Stage<WrittenBatch, WrittenBatch> {
  return {
    name: 'observe',
    process(batch) {
      if (!batch.write.duplicateRequest && performanceMonitoring) spanMetrics.observe(batch.spans, batch.errors);
      return pass(batch);
    },
  };
}
