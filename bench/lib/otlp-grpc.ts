import * as grpc from '@grpc/grpc-js';

/** The method OTLP/gRPC trace exporters call. */
export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

const bytes = (b: Buffer) => b;

/**
 * A TraceService client as @opentelemetry/exporter-trace-otlp-grpc uses it: the serializer's
 * bytes on a unary Export call (bodies are serialized OTLP already).
 */
export const TraceServiceClient = grpc.makeGenericClientConstructor(
  {
    Export: {
      path: TRACE_EXPORT_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: bytes,
      requestDeserialize: bytes,
      responseSerialize: bytes,
      responseDeserialize: bytes,
    },
  },
  'TraceService',
);
