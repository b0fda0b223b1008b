import type { Logger } from 'pino';
import type { FastifyBaseLogger } from 'fastify';
import type { WriteResult } from '@flowscope/storage';
import { decodeExport, type OtlpEncoding } from './decode.ts';
import { validateExport } from './validate.ts';
import type { Redactor } from './redact.ts';
import { mapExport } from './map.ts';
import type { GroupCommitWriter } from './writer.ts';
import type { CollectorMetrics } from './metrics.ts';

export interface ExportOutcome {
  received: number;
  rejected: number;
  rejectionMessage: string;
  accepted: number;
  write: WriteResult;
  traceIds: string[];
}

/**
 * receive → decode → validate → redact → derive metrics → sample → batch write → acknowledge.
 * Each stage is a function of its input; this chains them and counts what passed. The caller
 * (HTTP or gRPC receiver) acknowledges when the returned promise resolves, which is after
 * commit. Throws FlowscopeErrors for the receiver to map to status codes.
 */
export class ExportPipeline {
  constructor(
    private readonly deps: {
      redactor: Redactor;
      writer: GroupCommitWriter;
      metrics: CollectorMetrics;
      logger: Logger;
      enabled: boolean;
    },
  ) {}

  async process(body: Buffer, encoding: OtlpEncoding, log: FastifyBaseLogger = this.deps.logger): Promise<ExportOutcome> {
    const { metrics } = this.deps;
    const decoded = decodeExport(body, encoding);
    metrics.received.inc(decoded.spanCount);
    const { valid, rejected, message } = validateExport(decoded);
    if (rejected > 0) {
      metrics.refused.inc({ reason: 'invalid' }, rejected);
      log.warn({ rejected, problems: message }, 'rejected invalid spans');
    }
    metrics.redacted.inc(this.deps.redactor.export(valid));
    const mapped = mapExport(valid);
    // derive metrics and sample: added by their own stages (span metrics, sampling issue);
    // for now every valid span is kept.
    let write: WriteResult = { inserted: 0, duplicates: 0 };
    if (this.deps.enabled && mapped.spans.length > 0) {
      try {
        write = await this.deps.writer.submit({ spans: mapped.spans, errors: mapped.errors });
      } catch (err) {
        const reason = (err as { code?: string }).code;
        metrics.refused.inc(
          {
            reason:
              reason === 'FS_QUEUE_FULL'
                ? 'queue_full'
                : reason === 'FS_STORAGE_UNAVAILABLE'
                  ? 'storage_unavailable'
                  : reason === 'FS_SHUTTING_DOWN'
                    ? 'shutting_down'
                    : 'storage_error',
          },
          mapped.spans.length,
        );
        throw err;
      }
    }
    metrics.accepted.inc(mapped.spans.length);
    return {
      received: decoded.spanCount,
      rejected,
      rejectionMessage: message,
      accepted: mapped.spans.length,
      write,
      traceIds: mapped.traceIds,
    };
  }
}
