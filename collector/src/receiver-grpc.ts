import {
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status as GrpcStatus,
  type MethodDefinition,
  type ServerErrorResponse,
  type ServerInterceptor,
  type ServerUnaryCall,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { Logger } from 'pino';
import type { FlowscopeError } from '@flowscope/common';
import type { InflightBytes } from './limiter.ts';
import type { ExportPipeline } from './pipeline.ts';
import type { CollectorMetrics } from './metrics.ts';
import { encodeExportResponse, ExportTraceServiceResponse } from './otlp.ts';
import { grpcCodeFor, toFlowscopeError } from './status.ts';
import type { IngestAuth } from './ingest-auth.ts';

/** Metadata key the auth interceptor passes the token's name on with (any sent by a client is replaced). */
const INGEST_TOKEN_NAME_KEY = 'x-flowscope-ingest-token-name';

/** What TraceService/Export answers: empty, or how many spans were rejected and why. */
export interface ExportResponse {
  partialSuccess?: { rejectedSpans: number; errorMessage: string };
}

/**
 * opentelemetry.proto.collector.trace.v1.TraceService as grpc-js sees it. The request is kept
 * as the raw (already decompressed) protobuf bytes so the pipeline decodes it with the same
 * code as an OTLP/HTTP protobuf body; a malformed message is therefore the pipeline's 400
 * (INVALID_ARGUMENT), not grpc-js's deserialization INTERNAL. The client half lets tests (and
 * anything else) call the service with the same definition.
 */
export const traceServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (body: Buffer): Buffer => body,
    requestDeserialize: (body: Buffer): Buffer => body,
    responseSerialize: (r: ExportResponse): Buffer =>
      Buffer.from(encodeExportResponse(r.partialSuccess?.rejectedSpans ?? 0, r.partialSuccess?.errorMessage ?? '')),
    responseDeserialize: (buf: Buffer): ExportResponse => {
      const o = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(buf), { longs: Number }) as {
        partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
      };
      return o.partialSuccess
        ? { partialSuccess: { rejectedSpans: o.partialSuccess.rejectedSpans ?? 0, errorMessage: o.partialSuccess.errorMessage ?? '' } }
        : {};
    },
  } satisfies MethodDefinition<Buffer, ExportResponse>,
} satisfies ServiceDefinition;

/**
 * google.rpc.Status with its details, google.rpc.RetryInfo, and the two well-known types they
 * use, built by reflection (as otlp.ts builds the OTLP/HTTP Status) rather than as bytes.
 */
const rpcRoot = new protobuf.Root();
rpcRoot
  .define('google.protobuf')
  .add(new protobuf.Type('Duration').add(new protobuf.Field('seconds', 1, 'int64')).add(new protobuf.Field('nanos', 2, 'int32')))
  .add(new protobuf.Type('Any').add(new protobuf.Field('typeUrl', 1, 'string')).add(new protobuf.Field('value', 2, 'bytes')));
rpcRoot
  .define('google.rpc')
  .add(new protobuf.Type('RetryInfo').add(new protobuf.Field('retryDelay', 1, '.google.protobuf.Duration')))
  .add(
    new protobuf.Type('Status')
      .add(new protobuf.Field('code', 1, 'int32'))
      .add(new protobuf.Field('message', 2, 'string'))
      .add(new protobuf.Field('details', 3, '.google.protobuf.Any', 'repeated')),
  );
rpcRoot.resolveAll();
const RetryInfoType = rpcRoot.lookupType('google.rpc.RetryInfo');
const RpcStatusType = rpcRoot.lookupType('google.rpc.Status');
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** The grpc-status-details-bin value of a retryable refusal: Status{code, message, [RetryInfo]}. */
export function encodeRetryStatus(code: number, message: string, retryAfterSeconds: number): Buffer {
  const retryInfo = RetryInfoType.encode(RetryInfoType.create({ retryDelay: { seconds: retryAfterSeconds, nanos: 0 } })).finish();
  const status = RpcStatusType.fromObject({ code, message, details: [{ typeUrl: RETRY_INFO_TYPE_URL, value: retryInfo }] });
  return Buffer.from(RpcStatusType.encode(status).finish());
}

/**
 * A FlowscopeError as a gRPC status, per the OTLP/gRPC specification: permanent errors
 * (400/413/415) are INVALID_ARGUMENT; a full writer queue (429) is RESOURCE_EXHAUSTED and
 * storage/memory/shutdown refusals (503) are UNAVAILABLE, both with google.rpc.RetryInfo so
 * exporters wait as long as an HTTP client would with Retry-After (OTLP exporters only retry
 * RESOURCE_EXHAUSTED when RetryInfo is present). Anything else is INTERNAL without details.
 */
export function toGrpcError(e: FlowscopeError): ServerErrorResponse {
  const code = grpcCodeFor(e.statusCode);
  const details = e.expose ? e.message : 'internal error';
  const metadata = new Metadata();
  const retryAfter = e.options.retryAfterSeconds;
  if (retryAfter !== undefined && (code === GrpcStatus.RESOURCE_EXHAUSTED || code === GrpcStatus.UNAVAILABLE)) {
    metadata.set('grpc-status-details-bin', encodeRetryStatus(code, details, retryAfter));
  }
  return Object.assign(new Error(details), { code, details, metadata });
}

/** Label for calls that grpc-js ended itself before the handler answered (see countStatuses). */
export const ENDED_BY_GRPC = 'ended_by_grpc';

/**
 * Counts every call once in flowscope_export_requests_total{transport="grpc"}, labelled with
 * the name of the status sent (OK, INVALID_ARGUMENT, …). Calls grpc-js ends on its own before
 * the handler runs (a message past the size limit or that cannot be decompressed, a client
 * cancel, a deadline) never pass their status through an interceptor, so they are counted by
 * their end as `ended_by_grpc`.
 */
function countStatuses(metrics: CollectorMetrics): ServerInterceptor {
  return (_method, call) => {
    let counted = false;
    const count = (code: string) => {
      if (counted) return;
      counted = true;
      metrics.requests.inc({ transport: 'grpc', code });
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => count(ENDED_BY_GRPC) }),
      sendStatus: (status, next) => {
        count(GrpcStatus[status.code] ?? String(status.code));
        next(status);
      },
    });
  };
}

/**
 * Ingest authentication on gRPC: the call's `authorization` metadata is checked when it
 * arrives, before the message is read or the handler runs; a refusal is UNAUTHENTICATED, or
 * RESOURCE_EXHAUSTED with RetryInfo past the token's rate limit. The token leaves the metadata
 * here; the handler sees only its name.
 */
function authenticateCalls(auth: IngestAuth, logger: Logger): ServerInterceptor {
  return (_method, call) =>
    new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            const value = metadata.get('authorization')[0];
            metadata.remove('authorization');
            metadata.remove(INGEST_TOKEN_NAME_KEY);
            auth.check(typeof value === 'string' ? value : undefined).then(
              (name) => {
                if (name !== undefined) metadata.set(INGEST_TOKEN_NAME_KEY, name);
                mdNext(metadata);
              },
              (err: unknown) => {
                const e = toFlowscopeError(err);
                logger.info({ status: e.statusCode, code: e.code, reason: e.message }, 'export refused');
                const { code, details, metadata: trailers } = toGrpcError(e);
                call.sendStatus({ code: code ?? GrpcStatus.UNAUTHENTICATED, details: details ?? e.message, metadata: trailers ?? new Metadata() });
              },
            );
          },
        }),
    });
}

export interface GrpcReceiverOptions {
  pipeline: ExportPipeline;
  /** Ingest tokens; none (or disabled) lets every call through. */
  auth?: IngestAuth;
  limiter: InflightBytes;
  metrics: CollectorMetrics;
  logger: Logger;
  host: string;
  /** 0 picks a free port (tests); the bound port is returned. */
  port: number;
  /** Largest message, compressed or after decompression (grpc-js answers RESOURCE_EXHAUSTED past it). */
  maxMessageBytes: number;
  /** How long close() lets in-flight exports finish before cutting connections. */
  shutdownGraceMs?: number;
}

export interface GrpcReceiver {
  port: number;
  /** Stops accepting calls and waits for in-flight ones (up to the grace period). Safe twice. */
  close(): Promise<void>;
}

/**
 * OTLP/gRPC receiver: serves TraceService/Export into the same pipeline as OTLP/HTTP. Each
 * message holds its size in the in-flight memory limiter while it is processed; the answer is
 * sent after the pipeline resolves, which is after commit, so OK carries the same promise as
 * an HTTP 200. gzip requests (grpc-encoding: gzip) are decompressed by grpc-js, bounded by
 * maxMessageBytes.
 */
export async function startGrpcReceiver(options: GrpcReceiverOptions): Promise<GrpcReceiver> {
  const { pipeline, limiter, metrics, maxMessageBytes } = options;
  const logger = options.logger.child({ transport: 'grpc' });
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    // The first wraps the call innermost: statuses sent by the auth interceptor are counted too.
    interceptors: [countStatuses(metrics), ...(options.auth?.enabled ? [authenticateCalls(options.auth, logger)] : [])],
  });

  const exportOne = async (call: ServerUnaryCall<Buffer, ExportResponse>, log: Logger): Promise<ExportResponse> => {
    const body = call.request;
    limiter.admit(); // heap over its bound: retryable memory-limit error
    limiter.acquire(body.length); // throws the retryable memory-limit error, nothing taken
    try {
      const outcome = await pipeline.process(body, 'protobuf', log);
      log.info(
        {
          spans: outcome.received,
          rejected: outcome.rejected,
          stored: outcome.write.inserted,
          duplicates: outcome.write.duplicates,
          traceIds: outcome.traceIds.slice(0, 10),
        },
        'export accepted',
      );
      return outcome.rejected > 0 ? { partialSuccess: { rejectedSpans: outcome.rejected, errorMessage: outcome.rejectionMessage } } : {};
    } finally {
      limiter.release(body.length);
    }
  };

  server.addService(traceServiceDefinition, {
    Export: (call: ServerUnaryCall<Buffer, ExportResponse>, callback: (err: ServerErrorResponse | null, res?: ExportResponse) => void) => {
      const correlationId = call.metadata.get('x-correlation-id')[0];
      const tokenName = options.auth?.enabled ? call.metadata.get(INGEST_TOKEN_NAME_KEY)[0] : undefined;
      let log =
        typeof correlationId === 'string' && correlationId.length > 0
          ? logger.child({ correlationId: correlationId.slice(0, 128) })
          : logger;
      if (typeof tokenName === 'string') log = log.child({ ingestToken: tokenName });
      exportOne(call, log).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e = toFlowscopeError(err);
          if (e.statusCode >= 500 && !e.retryable) log.error({ err }, 'export failed');
          else log.info({ status: e.statusCode, code: e.code, reason: e.message }, 'export refused');
          callback(toGrpcError(e));
        },
      );
    },
  });

  const address = `${options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  logger.info({ port }, 'OTLP/gRPC receiver listening');

  const graceMs = options.shutdownGraceMs ?? 10_000;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        logger.warn({ graceMs }, 'in-flight gRPC exports did not finish in time; closing connections');
        server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return closing;
  };
  return { port, close };
}
