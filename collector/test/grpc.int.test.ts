import { randomBytes } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status as GrpcStatus,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { context, trace, SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { errors, FlowscopeError } from '@flowscope/common';
import { InflightBytes } from '../src/limiter.ts';
import type { CollectorMetrics } from '../src/metrics.ts';
import { toFlowscopeError } from '../src/status.ts';
import {
  ENDED_BY_GRPC,
  startGrpcReceiver,
  toGrpcError,
  traceServiceDefinition,
  type ExportResponse,
  type GrpcReceiver,
} from '../src/receiver-grpc.ts';
import { otlpJson, otlpProto, spanId, startCollector, testLogger, traceId, type TestCollector } from './helpers.ts';

const KiB = 1024;
const MAX_MESSAGE_BYTES = 256 * KiB;

/**
 * google.rpc.Status / RetryInfo parsed from .proto text, independently of the reflection-built
 * types the receiver encodes with, so a wrong field number or type on either side shows up.
 */
const rpcProto = protobuf.parse(
  `syntax = "proto3";
   package google.rpc;
   message Duration { int64 seconds = 1; int32 nanos = 2; }
   message Any { string type_url = 1; bytes value = 2; }
   message RetryInfo { Duration retry_delay = 1; }
   message Status { int32 code = 1; string message = 2; repeated Any details = 3; }`,
  { keepCase: true },
).root;
const StatusProto = rpcProto.lookupType('google.rpc.Status');
const RetryInfoProto = rpcProto.lookupType('google.rpc.RetryInfo');

function decodeStatusDetails(bin: Buffer) {
  const status = StatusProto.toObject(StatusProto.decode(bin), { longs: Number, defaults: true }) as {
    code: number;
    message: string;
    details: { type_url: string; value: Uint8Array }[];
  };
  return {
    code: status.code,
    message: status.message,
    details: status.details.map((d) => ({
      typeUrl: d.type_url,
      retryInfo: RetryInfoProto.toObject(RetryInfoProto.decode(d.value), { longs: Number, defaults: true }) as {
        retry_delay: { seconds: number; nanos: number };
      },
    })),
  };
}

type ExportFn = (
  body: Buffer,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, res?: ExportResponse) => void,
) => unknown;

/** A plain grpc-js client built from the receiver's own service definition. */
const TraceServiceClient = makeGenericClientConstructor(traceServiceDefinition, 'TraceService');

function rawClient(port: number, options: ChannelOptions = {}) {
  const client = new TraceServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), options);
  const call = client.Export as unknown as ExportFn;
  return {
    export: (body: Buffer) =>
      new Promise<{ response?: ExportResponse; error?: ServiceError }>((resolve) => {
        call.call(client, body, new Metadata(), { deadline: Date.now() + 20_000 }, (error, response) =>
          resolve(error ? { error } : { response: response! }),
        );
      }),
    close: () => client.close(),
  };
}

/** Export requests counted for the gRPC transport with this status label. */
async function grpcRequests(metrics: CollectorMetrics, code: string): Promise<number> {
  const { values } = await metrics.requests.get();
  return values.find((v) => v.labels.transport === 'grpc' && v.labels.code === code)?.value ?? 0;
}

/** A loopback TCP relay counting the bytes the client sends, to see what is on the wire. */
async function countingRelay(targetPort: number) {
  let bytesUp = 0;
  const sockets = new Set<Socket>();
  const server = createServer((down) => {
    const up = connect(targetPort, '127.0.0.1');
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    down.on('data', (c: Buffer) => (bytesUp += c.length));
    down.pipe(up).on('error', () => down.destroy());
    up.pipe(down).on('error', () => up.destroy());
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    bytesUp: () => bytesUp,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

type Compression = 'none' | 'gzip';

/**
 * A small checkout exported by two services through the real OTLP/gRPC exporter: an API
 * server span, the order service under it with a database call. The order span carries a
 * large, very compressible attribute so that compression is visible on the wire.
 */
async function exportWorkflow(url: string, compression: Compression, workflowId: string) {
  const providers: BasicTracerProvider[] = [];
  const tracer = (service: string) => {
    const exporter = new OTLPTraceExporter({
      url,
      compression: compression as NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>['compression'],
    });
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    providers.push(p);
    return p.getTracer('grpc-test');
  };
  const gateway = tracer('api-gateway');
  const orders = tracer('order-service');
  const wf = { 'workflow.type': 'checkout', 'workflow.id': workflowId };

  const server = gateway.startSpan('POST /api/checkout', {
    kind: SpanKind.SERVER,
    attributes: { ...wf, 'http.request.method': 'POST', 'http.route': '/api/checkout' },
  });
  const order = orders.startSpan(
    'place order',
    { attributes: { ...wf, 'order.notes': 'n'.repeat(96 * KiB) } },
    trace.setSpan(context.active(), server),
  );
  const insert = orders.startSpan(
    'INSERT orders',
    { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } },
    trace.setSpan(context.active(), order),
  );
  insert.end();
  order.end();
  server.end();
  for (const p of providers) await p.forceFlush();
  for (const p of providers) await p.shutdown();
  return {
    traceId: server.spanContext().traceId,
    spanIds: [server, order, insert].map((s) => s.spanContext().spanId).sort(),
  };
}

describe('OTLP/gRPC receiver (postgres)', () => {
  let t: TestCollector;
  let limiter: InflightBytes;
  let receiver: GrpcReceiver;
  let client: ReturnType<typeof rawClient>;

  beforeAll(async () => {
    t = await startCollector('postgres', { DEBUGGING_TRACE_SAMPLING_RATE: '1' });
    limiter = new InflightBytes(64 * 1024 * KiB, 2);
    receiver = await startGrpcReceiver({
      pipeline: t.collector.pipeline,
      limiter,
      metrics: t.collector.metrics,
      logger: testLogger(),
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });
    client = rawClient(receiver.port);
  });
  afterAll(async () => {
    client?.close();
    await receiver?.close();
    await t?.dispose();
  });

  const storedSpans = (trace: string) =>
    t.db.query<{ span_id: string; workflow_id: string; workflow_type: string; component: string }>(
      `SELECT span_id, workflow_id, workflow_type, component FROM trace_steps WHERE trace_id = $1 ORDER BY span_id`,
      [trace],
    );

  it.each<[Compression]>([['none'], ['gzip']])(
    'the OpenTelemetry gRPC exporter delivers a workflow (compression %s)',
    async (compression) => {
      const relay = await countingRelay(receiver.port);
      const okBefore = await grpcRequests(t.collector.metrics, 'OK');
      const workflowId = `order-grpc-${compression}`;
      let sent;
      try {
        sent = await exportWorkflow(`http://127.0.0.1:${relay.port}`, compression, workflowId);
      } finally {
        await relay.close();
      }

      const rows = await storedSpans(sent.traceId);
      expect(rows.map((r) => r.span_id)).toEqual(sent.spanIds);
      for (const r of rows) expect(r).toMatchObject({ workflow_id: workflowId, workflow_type: 'checkout' });
      expect(new Set(rows.map((r) => r.component))).toEqual(new Set(['api-gateway', 'order-service']));
      // One export per service, both answered OK.
      expect((await grpcRequests(t.collector.metrics, 'OK')) - okBefore).toBe(2);
      // The 96 KiB attribute crossed the wire whole, or gzipped to a small fraction of it.
      if (compression === 'gzip') expect(relay.bytesUp()).toBeLessThan(32 * KiB);
      else expect(relay.bytesUp()).toBeGreaterThan(96 * KiB);
      expect(limiter.current).toBe(0);
    },
  );

  it('answers INVALID_ARGUMENT to a message that is not an ExportTraceServiceRequest', async () => {
    const before = await grpcRequests(t.collector.metrics, 'INVALID_ARGUMENT');
    // Field 1 (resource_spans), length-delimited, claiming far more bytes than follow.
    const { error } = await client.export(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(error?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/cannot decode protobuf ExportTraceServiceRequest/);
    expect(error?.metadata.get('grpc-status-details-bin')).toEqual([]);
    expect((await grpcRequests(t.collector.metrics, 'INVALID_ARGUMENT')) - before).toBe(1);
    expect(limiter.current).toBe(0);
  });

  it('stores the valid spans and reports the invalid ones as partial success', async () => {
    const trace = traceId();
    const body = otlpProto(
      otlpJson('cart-service', [
        { traceId: trace, spanId: spanId(1), attributes: { 'workflow.type': 'cart', 'workflow.id': 'cart-1' } },
        { traceId: trace, spanId: '0000000000000000' },
        { traceId: trace, spanId: 'abcd' },
      ]),
    );
    const { response, error } = await client.export(body);
    expect(error).toBeUndefined();
    expect(response?.partialSuccess?.rejectedSpans).toBe(2);
    expect(response?.partialSuccess?.errorMessage).toMatch(/2 span\(s\): invalid span id/);
    expect(await storedSpans(trace)).toEqual([
      { span_id: spanId(1), workflow_id: 'cart-1', workflow_type: 'cart', component: 'cart-service' },
    ]);
  });

  it('answers a fully valid message with an empty response', async () => {
    const trace = traceId();
    const { response, error } = await client.export(otlpProto(otlpJson('svc', [{ traceId: trace, spanId: spanId(7) }])));
    expect(error).toBeUndefined();
    expect(response).toEqual({});
    expect(await storedSpans(trace)).toHaveLength(1);
  });

  it('refuses a message over the size limit with RESOURCE_EXHAUSTED, compressed or not', async () => {
    const before = await grpcRequests(t.collector.metrics, ENDED_BY_GRPC);
    const big = traceId();
    // A message over the limit as sent (uncompressed): 2 × MAX_MESSAGE_BYTES hex characters.
    const noise = randomBytes(MAX_MESSAGE_BYTES).toString('hex');
    const plain = await client.export(
      otlpProto(otlpJson('svc', [{ traceId: big, spanId: spanId(1), attributes: { noise } }])),
    );
    expect(plain.error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);

    // A gzip message far under the limit on the wire that inflates past it (a zip bomb).
    const bomb = traceId();
    const bombBody = otlpProto(otlpJson('svc', [{ traceId: bomb, spanId: spanId(1), attributes: { pad: 'a'.repeat(4 * MAX_MESSAGE_BYTES) } }]));
    expect(gzipSync(bombBody).length).toBeLessThan(MAX_MESSAGE_BYTES / 8);
    const gzClient = rawClient(receiver.port, { 'grpc.default_compression_algorithm': 2 /* gzip */ });
    try {
      const inflated = await gzClient.export(bombBody);
      expect(inflated.error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(inflated.error?.details).toMatch(/decompresses to a size larger than/);
      // And the same client's small gzip message goes through: the server does decompress.
      const ok = traceId();
      const small = await gzClient.export(otlpProto(otlpJson('svc', [{ traceId: ok, spanId: spanId(1) }])));
      expect(small.error).toBeUndefined();
      expect(await storedSpans(ok)).toHaveLength(1);
    } finally {
      gzClient.close();
    }

    expect(await storedSpans(big)).toEqual([]);
    expect(await storedSpans(bomb)).toEqual([]);
    expect((await grpcRequests(t.collector.metrics, ENDED_BY_GRPC)) - before).toBe(2);
  });

  it('refuses with UNAVAILABLE and RetryInfo when the memory limiter is full', async () => {
    const tiny = new InflightBytes(64, 7);
    const small = await startGrpcReceiver({
      pipeline: t.collector.pipeline,
      limiter: tiny,
      metrics: t.collector.metrics,
      logger: testLogger(),
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });
    const c = rawClient(small.port);
    try {
      const before = await grpcRequests(t.collector.metrics, 'UNAVAILABLE');
      const trace = traceId();
      const { error } = await c.export(otlpProto(otlpJson('svc', [{ traceId: trace, spanId: spanId(1) }])));
      expect(error?.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(error?.details).toMatch(/in-flight memory limit/);
      const [bin] = error!.metadata.get('grpc-status-details-bin');
      expect(Buffer.isBuffer(bin)).toBe(true);
      expect(decodeStatusDetails(bin as Buffer)).toEqual({
        code: GrpcStatus.UNAVAILABLE,
        message: error!.details,
        details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', retryInfo: { retry_delay: { seconds: 7, nanos: 0 } } }],
      });
      expect(tiny.current).toBe(0);
      expect(await storedSpans(trace)).toEqual([]);
      expect((await grpcRequests(t.collector.metrics, 'UNAVAILABLE')) - before).toBe(1);
    } finally {
      c.close();
      await small.close();
    }
  });

  it('lets an in-flight export finish on close, refuses afterwards, and closes twice safely', async () => {
    // A collector on the same database whose writer lingers, so the export is still in flight
    // when close() is called.
    const slow = await startCollector('postgres', { DEBUGGING_TRACE_SAMPLING_RATE: '1', FLOWSCOPE_WRITER_LINGER_MS: '500' }, { db: t.db });
    const held = new InflightBytes(64 * 1024 * KiB, 2);
    const r = await startGrpcReceiver({
      pipeline: slow.collector.pipeline,
      limiter: held,
      metrics: slow.collector.metrics,
      logger: testLogger(),
      host: '127.0.0.1',
      port: 0,
      maxMessageBytes: MAX_MESSAGE_BYTES,
    });
    const c = rawClient(r.port);
    try {
      const trace = traceId();
      const inFlight = c.export(otlpProto(otlpJson('svc', [{ traceId: trace, spanId: spanId(1) }])));
      await vi.waitFor(() => expect(held.current).toBeGreaterThan(0), { timeout: 10_000, interval: 5 });
      const first = r.close();
      const second = r.close();
      const [result] = await Promise.all([inFlight, first, second]);
      expect(result.error).toBeUndefined();
      expect(await storedSpans(trace)).toHaveLength(1);
      await r.close();

      const after = await c.export(otlpProto(otlpJson('svc', [{ traceId: traceId(), spanId: spanId(1) }])));
      expect(after.error?.code).toBe(GrpcStatus.UNAVAILABLE);
    } finally {
      c.close();
      await r.close();
      await slow.collector.close();
    }
  });
});

describe('gRPC status of each refusal', () => {
  const cases: [string, FlowscopeError, number, string, number | undefined][] = [
    ['undecodable body', errors.badRequest('cannot decode'), GrpcStatus.INVALID_ARGUMENT, 'cannot decode', undefined],
    ['too large', errors.bodyTooLarge(10), GrpcStatus.INVALID_ARGUMENT, 'request body exceeds the limit of 10 bytes (after decompression)', undefined],
    ['unsupported encoding', errors.unsupportedEncoding('br'), GrpcStatus.INVALID_ARGUMENT, 'unsupported content encoding "br": send gzip or identity', undefined],
    ['writer queue full', errors.queueFull(3), GrpcStatus.RESOURCE_EXHAUSTED, 'writer queue is full, retry later', 3],
    ['storage unavailable', errors.storageUnavailable(5), GrpcStatus.UNAVAILABLE, 'storage is unavailable, retry later', 5],
    ['memory limit', errors.memoryLimit(2), GrpcStatus.UNAVAILABLE, 'collector is at its in-flight memory limit, retry later', 2],
    ['shutting down', errors.shuttingDown(), GrpcStatus.UNAVAILABLE, 'collector is shutting down, retry later', 1],
    ['unknown error', toFlowscopeError(new Error('password=hunter2 at db.internal')), GrpcStatus.INTERNAL, 'internal error', undefined],
    ['internal with retry but not 429/503', new FlowscopeError('FS_INTERNAL', 500, 'secret detail', { retryAfterSeconds: 4 }), GrpcStatus.INTERNAL, 'internal error', undefined],
  ];

  it.each(cases)('%s', (_name, err, code, details, retrySeconds) => {
    const s = toGrpcError(err);
    expect(s.code).toBe(code);
    expect(s.details).toBe(details);
    const bins = s.metadata!.get('grpc-status-details-bin');
    if (retrySeconds === undefined) {
      expect(bins).toEqual([]);
    } else {
      expect(decodeStatusDetails(bins[0] as Buffer)).toEqual({
        code,
        message: details,
        details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', retryInfo: { retry_delay: { seconds: retrySeconds, nanos: 0 } } }],
      });
    }
  });
});
