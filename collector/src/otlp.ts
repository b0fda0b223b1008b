import protobuf from 'protobufjs';
// The OTLP protobuf schema compiled by the OpenTelemetry JS project (static protobufjs code).
import otlpRoot from '@opentelemetry/otlp-transformer/build/esm/generated/root.js';

/** The decoded messages we read; protobufjs fills absent fields with defaults. */
interface MessageType<T = unknown> {
  decode(buf: Uint8Array): T;
  encode(msg: unknown): { finish(): Uint8Array };
  fromObject(obj: unknown): unknown;
  toObject(msg: unknown, options?: Record<string, unknown>): unknown;
}

interface OtlpRootShape {
  opentelemetry: {
    proto: {
      collector: {
        trace: {
          v1: {
            ExportTraceServiceRequest: MessageType;
            ExportTraceServiceResponse: MessageType;
          };
        };
      };
    };
  };
}

const v1 = (otlpRoot as unknown as OtlpRootShape).opentelemetry.proto.collector.trace.v1;
export const ExportTraceServiceRequest = v1.ExportTraceServiceRequest;
export const ExportTraceServiceResponse = v1.ExportTraceServiceResponse;

/** google.rpc.Status, the error body of OTLP/HTTP responses (built by reflection, not by hand). */
const StatusType = new protobuf.Type('Status')
  .add(new protobuf.Field('code', 1, 'int32'))
  .add(new protobuf.Field('message', 2, 'string'));
new protobuf.Root().define('google.rpc').add(StatusType);

export function encodeStatus(code: number, message: string): Uint8Array {
  return StatusType.encode(StatusType.create({ code, message })).finish();
}

export function decodeStatus(buf: Uint8Array): { code: number; message: string } {
  return StatusType.toObject(StatusType.decode(buf), { defaults: true }) as { code: number; message: string };
}

export function encodeExportResponse(rejectedSpans: number, errorMessage: string): Uint8Array {
  const msg =
    rejectedSpans > 0 || errorMessage
      ? ExportTraceServiceResponse.fromObject({ partialSuccess: { rejectedSpans, errorMessage } })
      : ExportTraceServiceResponse.fromObject({});
  return ExportTraceServiceResponse.encode(msg).finish();
}
