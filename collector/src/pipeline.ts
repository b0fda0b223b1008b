import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import { ERROR_CATALOG, FlowscopeError } from '@flowscope/common';
import type { SpanObservation, WriteResult } from '@flowscope/storage';
import { decodeExport, type OtlpEncoding } from './decode.ts';
import type { DecodedExport } from './model.ts';
import { DEFAULT_VALUE_LIMITS, validateExport, type ValueLimits } from './validate.ts';
import type { Redactor } from './redact.ts';
import { mapExport, tracesWithoutWorkflowId, type TraceWorkflowCache } from './map.ts';
import type { GroupCommitWriter } from './writer.ts';
import type { CollectorMetrics } from './metrics.ts';
import { deriveSnapshotDeltas, type SpanPrometheusMetrics } from './spanmetrics.ts';
import type { TailSampler } from './sampler.ts';
import { deriveOperationDeltas, type OperationCatalog } from './opstats.ts';

export interface ExportOutcome {
  received: number;
  rejected: number;
  rejectionMessage: string;
  /** Spans acknowledged (stored, or counted and sampled out). */
  accepted: number;
  /** Spans of this request kept for storage. */
  kept: number;
  held: number;
  write: WriteResult & { duplicateRequest?: boolean };
  traceIds: string[];
}

export interface PipelineDeps {
  redactor: Redactor;
  writer: GroupCommitWriter;
  sampler: TailSampler;
  spanMetrics: SpanPrometheusMetrics;
  metrics: CollectorMetrics;
  logger: Logger;
  enabled: boolean;
  performanceMonitoring: boolean;
  errorLogging: boolean;
  /** Tells other replicas about traces this one decided to keep because they are interesting. */
  shareKeep?: (traceIds: string[]) => void;
  traceCache?: TraceWorkflowCache;
  /** Per-operation statistics (baselines); absent: none are kept. */
  operations?: OperationCatalog;
  /** Bounds on identifiers and names (FLOWSCOPE_MAX_ID_CHARS, FLOWSCOPE_MAX_NAME_CHARS). */
  limits?: ValueLimits;
}

function firstTraceIds(req: DecodedExport, max: number): string[] {
  const ids = new Set<string>();
  for (const rs of req.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        if (ids.size >= max) return [...ids];
        if (s.traceId) ids.add(s.traceId);
      }
  return [...ids];
}

/**
 * receive → decode → validate → redact → derive metrics → sample → batch write → acknowledge.
 * Each stage is a function of its input; this chains them and counts what passed. The caller
 * (HTTP or gRPC receiver) acknowledges when the returned promise resolves, which is after
 * commit. Throws FlowscopeErrors for the receiver to map to status codes.
 */
/** The refusal reason of a failed write: the catalog's, or storage_error for anything unexpected. */
const refusalReason = (err: unknown) => (err instanceof FlowscopeError ? err.reason : ERROR_CATALOG.FS_STORAGE_ERROR.reason);

export class ExportPipeline {
  constructor(private readonly deps: PipelineDeps) {}

  async process(body: Buffer, encoding: OtlpEncoding, log: FastifyBaseLogger = this.deps.logger): Promise<ExportOutcome> {
    const { metrics, sampler } = this.deps;
    const decoded = decodeExport(body, encoding);
    metrics.received.inc(decoded.spanCount);
    // Every later line about this request carries (the first few of) its trace ids.
    log = log.child({ traceIds: firstTraceIds(decoded, 10) });
    const { valid, rejected, message, truncated } = validateExport(decoded, this.deps.limits ?? DEFAULT_VALUE_LIMITS);
    if (truncated > 0) log.info({ truncated, maxNameChars: (this.deps.limits ?? DEFAULT_VALUE_LIMITS).maxNameChars }, 'cut over-long names to the limit');
    if (rejected > 0) {
      metrics.refused.inc({ reason: ERROR_CATALOG.FS_BAD_REQUEST.reason }, rejected);
      log.warn({ rejected, problems: message }, 'rejected invalid spans');
    }
    metrics.redacted.inc(this.deps.redactor.export(valid));
    // Only with replicas sharing Redis: ask them about traces this request cannot place.
    if (this.deps.traceCache?.shares) await this.deps.traceCache.prefetch(tracesWithoutWorkflowId(valid));
    const mapped = mapExport(valid, this.deps.traceCache);
    this.deps.traceCache?.share();
    const outcome: ExportOutcome = {
      received: decoded.spanCount,
      rejected,
      rejectionMessage: message,
      accepted: mapped.spans.length,
      kept: 0,
      held: 0,
      write: { inserted: 0, duplicates: 0 },
      traceIds: mapped.traceIds,
    };
    if (!this.deps.enabled || mapped.spans.length === 0) {
      metrics.accepted.inc(mapped.spans.length);
      return outcome;
    }

    // Derive metrics from every span, then sample.
    const deltas = this.deps.performanceMonitoring ? deriveSnapshotDeltas(mapped.spans) : [];
    const opDeltas = this.deps.performanceMonitoring && this.deps.operations ? deriveOperationDeltas(mapped.spans, this.deps.operations) : [];
    const sampled = sampler.sample(mapped.spans, mapped.errors);
    const kept = new Set(sampled.keep.spans);
    const observations: SpanObservation[] = mapped.spans.map((s) => ({
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
    if (sampled.interesting.length > 0) this.deps.shareKeep?.(sampled.interesting);

    try {
      outcome.write = await this.deps.writer.submit({
        spans: sampled.keep.spans,
        errors: this.deps.errorLogging ? sampled.keep.errors : [],
        observations,
        deltas,
        opDeltas,
        receipt: createHash('sha256').update(body).digest('base64url'),
      });
    } catch (err) {
      metrics.refused.inc({ reason: refusalReason(err) }, mapped.spans.length);
      throw err;
    }
    // Counted once: a retried request was counted when it was first committed.
    if (!outcome.write.duplicateRequest && this.deps.performanceMonitoring) {
      this.deps.spanMetrics.observe(mapped.spans, mapped.errors);
    }
    metrics.accepted.inc(mapped.spans.length);
    outcome.kept = sampled.keep.spans.length - sampled.rescued;
    outcome.held = sampled.held;
    return outcome;
  }

  /** Writes spans held here for traces another replica decided to keep. */
  async rescue(traceId: string): Promise<number> {
    const released = this.deps.sampler.markKeep(traceId);
    if (!released || released.spans.length === 0) return 0;
    this.deps.metrics.rescued.inc(released.spans.length);
    this.deps.metrics.heldSpans.set(this.deps.sampler.heldSpanCount);
    await this.deps.writer.submit({
      spans: released.spans,
      errors: this.deps.errorLogging ? released.errors : [],
      observations: [],
    });
    return released.spans.length;
  }
}
