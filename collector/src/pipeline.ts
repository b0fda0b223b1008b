import type { Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { WriteResult } from '@flowscope/storage';
import { decodeExport, type OtlpEncoding } from './decode.ts';
import type { DecodedExport } from './model.ts';
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from './validate.ts';
import type { Redactor } from './redact.ts';
import type { TraceWorkflowCache } from './map.ts';
import type { GroupCommitWriter } from './writer.ts';
import type { CollectorMetrics } from './metrics.ts';
import type { SpanPrometheusMetrics } from './spanmetrics.ts';
import type { TailSampler } from './sampler.ts';
import type { OperationCatalog } from './opstats.ts';
import { Chain } from './stage.ts';
import {
  deriveStage,
  gateStage,
  mapStage,
  observeStage,
  redactStage,
  sampleStage,
  validateStage,
  writeStage,
  type DecodedBatch,
  type ExportBatch,
  type WrittenBatch,
} from './stages.ts';

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
 * receive → decode → validate → redact → map → derive metrics → sample → batch write →
 * acknowledge. `process` decodes (the receiving end, as in an OpenTelemetry receiver); the
 * stages (stages.ts) run as one chain (stage.ts), which counts what entered, what was refused
 * and why, and what was acknowledged. The caller (HTTP or
 * gRPC receiver) acknowledges when the returned promise resolves, which is after commit.
 * Throws FlowscopeErrors for the receiver to map to status codes.
 */
export class ExportPipeline {
  private readonly chain: Chain<ExportBatch, DecodedBatch, WrittenBatch>;

  constructor(private readonly deps: PipelineDeps) {
    const { metrics, performanceMonitoring } = deps;
    this.chain = Chain.start<ExportBatch, DecodedBatch>(metrics)
      .then(validateStage(deps.limits ?? DEFAULT_VALUE_LIMITS))
      .then(redactStage(deps.redactor, metrics.redacted))
      .then(mapStage(deps.traceCache))
      .then(gateStage(deps.enabled))
      .then(deriveStage({ performanceMonitoring, operations: deps.operations }))
      .then(sampleStage({ sampler: deps.sampler, metrics, shareKeep: deps.shareKeep }))
      .then(writeStage({ writer: deps.writer, errorLogging: deps.errorLogging }))
      .then(observeStage(deps.spanMetrics, performanceMonitoring));
  }

  async process(body: Buffer, encoding: OtlpEncoding, log: FastifyBaseLogger = this.deps.logger): Promise<ExportOutcome> {
    const request = decodeExport(body, encoding);
    const result = await this.chain.run({
      request,
      spanCount: request.spanCount,
      received: request.spanCount,
      // Every later line about this request carries (the first few of) its trace ids.
      log: log.child({ traceIds: firstTraceIds(request, 10) }),
      body,
      rejected: 0,
      rejectionMessage: '',
      traceIds: [],
    });
    const outcome = 'drop' in result ? result.at : result.batch;
    const common = {
      received: outcome.received,
      rejected: outcome.rejected,
      rejectionMessage: outcome.rejectionMessage,
      accepted: outcome.spanCount,
      traceIds: [...outcome.traceIds],
    };
    if ('drop' in result) return { ...common, kept: 0, held: 0, write: { inserted: 0, duplicates: 0 } };
    const { sampled, write } = result.batch;
    return { ...common, kept: sampled.keep.spans.length - sampled.rescued, held: sampled.held, write };
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
