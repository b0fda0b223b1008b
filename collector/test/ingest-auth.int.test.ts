import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { credentials, makeGenericClientConstructor, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter as OTLPProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as OTLPGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { ConfigError, parseConfig } from '@flowscope/common';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { buildCollector, collectorConfigShape, type Collector } from '../src/index.ts';
import { decodeStatus } from '../src/otlp.ts';
import { traceServiceDefinition, type ExportResponse } from '../src/receiver-grpc.ts';
import { collectorConfig, otlpJson, otlpProto, spanId, traceId } from './helpers.ts';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

const TOKEN_A = 'ingest-secret-aaaa-0123456789abcdef';
const TOKEN_B = 'ingest-secret-bbbb-0123456789abcdef';
const WRONG = 'ingest-secret-wrong-0123456789abcdef';
const TOKENS = `svc-a:${TOKEN_A},${TOKEN_B}`;

/** A collector with ingest tokens, its log lines kept in memory (to prove no token is written). */
async function start(db: Database, env: Record<string, string>) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const collector = buildCollector({ db, config: collectorConfig(env), logger: pino({ level: 'debug' }, sink) });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  const grpcPort = await collector.listenGrpc({ host: '127.0.0.1', port: 0 });
  const a = collector.app.server.address();
  const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  return { collector, base, grpcPort, log: () => lines.join('') };
}

const body = (workflowId: string) =>
  otlpJson('auth-svc', [{ traceId: traceId(), spanId: spanId(1), name: 'op', attributes: { 'workflow.type': 'auth', 'workflow.id': workflowId } }]);

const TraceServiceClient = makeGenericClientConstructor(traceServiceDefinition, 'TraceService');
function grpcExport(port: number, payload: Buffer, authorization?: string) {
  const client = new TraceServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const md = new Metadata();
  if (authorization) md.set('authorization', authorization);
  const call = client.Export as unknown as (
    b: Buffer, m: Metadata, o: { deadline: number }, cb: (err: ServiceError | null, res?: ExportResponse) => void,
  ) => void;
  return new Promise<{ error?: ServiceError; response?: ExportResponse }>((resolve) => {
    call.call(client, payload, md, { deadline: Date.now() + 20_000 }, (error, response) => {
      client.close();
      resolve(error ? { error } : { response: response! });
    });
  });
}

/** Wraps an exporter to keep the result of each export. */
function recording(inner: SpanExporter) {
  const results: ExportResult[] = [];
  const exporter: SpanExporter = {
    export: (spans: ReadableSpan[], cb: (r: ExportResult) => void) => inner.export(spans, (r) => (results.push(r), cb(r))),
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
  return { exporter, results };
}

async function sdkExport(exporter: SpanExporter, workflowId: string): Promise<void> {
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'sdk-svc' }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const span = provider.getTracer('t').startSpan('GET /x', { kind: SpanKind.SERVER, attributes: { 'workflow.type': 'auth', 'workflow.id': workflowId } });
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
}

describe('ingest tokens (FLOWSCOPE_INGEST_TOKENS)', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let c: Awaited<ReturnType<typeof start>>;
  const stored = async (workflowId: string) =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM trace_steps WHERE workflow_id = $1', [workflowId]))[0]!.n;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    c = await start(db, { FLOWSCOPE_INGEST_TOKENS: TOKENS, FLOWSCOPE_INGEST_RATE_LIMIT: '0' });
  });
  afterAll(async () => {
    await c?.collector.close();
    await dispose?.();
  });

  const post = (payload: unknown, headers: Record<string, string>) =>
    fetch(`${c.base}/v1/traces`, {
      method: 'POST',
      headers,
      body: Buffer.isBuffer(payload) ? new Uint8Array(payload) : JSON.stringify(payload),
    });

  it.each([
    ['no header (JSON)', {}, 'an ingest token is required'],
    ['a wrong token (JSON)', { authorization: `Bearer ${WRONG}` }, 'the ingest token is not valid'],
    ['a token without Bearer', { authorization: TOKEN_A }, 'the ingest token is not valid'],
    ['Basic credentials', { authorization: `Basic ${Buffer.from(`x:${TOKEN_A}`).toString('base64')}` }, 'the ingest token is not valid'],
  ])('HTTP with %s: 401 with a google.rpc.Status body (UNAUTHENTICATED), nothing stored', async (_name, headers, message) => {
    const wf = `wf-${Math.random()}`;
    const res = await post(body(wf), { 'content-type': 'application/json', ...headers });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 16, message: expect.stringContaining(message) as unknown });
    expect(await stored(wf)).toBe(0);
  });

  it('HTTP protobuf without a token: 401 with a protobuf Status', async () => {
    const res = await post(otlpProto(body('wf-proto-refused')), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/x-protobuf');
    expect(decodeStatus(new Uint8Array(await res.arrayBuffer()))).toMatchObject({ code: 16, message: expect.stringContaining('ingest token') as unknown });
  });

  it.each([
    ['the named token', TOKEN_A],
    ['the bare token', TOKEN_B],
  ])('HTTP with %s: accepted and stored (JSON and protobuf, any letter case of Bearer)', async (_name, token) => {
    const wf = `wf-ok-${Math.random()}`;
    expect((await post(body(wf), { 'content-type': 'application/json', authorization: `Bearer ${token}` })).status).toBe(200);
    const wf2 = `wf-ok-${Math.random()}`;
    expect((await post(otlpProto(body(wf2)), { 'content-type': 'application/x-protobuf', authorization: `bearer ${token}` })).status).toBe(200);
    expect(await stored(wf)).toBe(1);
    expect(await stored(wf2)).toBe(1);
  });

  it('health, readiness and metrics need no token', async () => {
    for (const path of ['/health', '/ready', '/metrics']) expect((await fetch(`${c.base}${path}`)).status).toBe(200);
  });

  it('gRPC: UNAUTHENTICATED without or with a wrong token, OK with one', async () => {
    const none = await grpcExport(c.grpcPort, otlpProto(body('wf-grpc-none')));
    expect(none.error?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(none.error?.details).toContain('an ingest token is required');
    const wrong = await grpcExport(c.grpcPort, otlpProto(body('wf-grpc-wrong')), `Bearer ${WRONG}`);
    expect(wrong.error?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    const ok = await grpcExport(c.grpcPort, otlpProto(body('wf-grpc-ok')), `Bearer ${TOKEN_A}`);
    expect(ok.error).toBeUndefined();
    expect(await stored('wf-grpc-none')).toBe(0);
    expect(await stored('wf-grpc-wrong')).toBe(0);
    expect(await stored('wf-grpc-ok')).toBe(1);
    const { values } = await c.collector.metrics.requests.get();
    expect(values.find((v) => v.labels.transport === 'grpc' && v.labels.code === 'UNAUTHENTICATED')?.value).toBeGreaterThanOrEqual(2);
  });

  it('the real OTel JS exporters (HTTP/protobuf with OTEL_EXPORTER_OTLP_HEADERS, gRPC with metadata) deliver with a token and fail without', async () => {
    // OTLP/HTTP protobuf, the token from the environment variable exporters document
    process.env.OTEL_EXPORTER_OTLP_HEADERS = `Authorization=Bearer%20${TOKEN_A}`;
    let withEnv: ReturnType<typeof recording>;
    try {
      withEnv = recording(new OTLPProtoExporter({ url: `${c.base}/v1/traces` }));
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    }
    await sdkExport(withEnv.exporter, 'wf-sdk-http');
    expect(withEnv.results.map((r) => r.code)).toEqual([0]);
    expect(await stored('wf-sdk-http')).toBe(1);

    const without = recording(new OTLPProtoExporter({ url: `${c.base}/v1/traces` }));
    // SimpleSpanProcessor's flush passes the failed export on
    const httpError = await sdkExport(without.exporter, 'wf-sdk-http-none').then(() => undefined, (e: unknown) => e);
    expect(String(httpError)).toMatch(/Unauthorized/);
    expect(without.results.map((r) => r.code)).toEqual([1]);
    expect(await stored('wf-sdk-http-none')).toBe(0);

    const md = new Metadata();
    md.set('authorization', `Bearer ${TOKEN_B}`);
    const grpcOk = recording(new OTLPGrpcExporter({ url: `http://127.0.0.1:${c.grpcPort}`, metadata: md }));
    await sdkExport(grpcOk.exporter, 'wf-sdk-grpc');
    expect(grpcOk.results.map((r) => r.code)).toEqual([0]);
    expect(await stored('wf-sdk-grpc')).toBe(1);

    const grpcNone = recording(new OTLPGrpcExporter({ url: `http://127.0.0.1:${c.grpcPort}` }));
    const grpcError = await sdkExport(grpcNone.exporter, 'wf-sdk-grpc-none').then(() => undefined, (e: unknown) => e);
    expect(String(grpcError)).toMatch(/UNAUTHENTICATED|ingest token/);
    expect(grpcNone.results.map((r) => r.code)).toEqual([1]);
    expect(await stored('wf-sdk-grpc-none')).toBe(0);
  });

  it('no token, valid or not, is written to the log; accepted exports name the token', () => {
    const log = c.log();
    expect(log).toContain('export refused');
    expect(log).toContain('"ingestToken":"svc-a"');
    for (const secret of [TOKEN_A, TOKEN_B, WRONG, 'ingest-secret']) expect(log).not.toContain(secret);
  });

  it('a bad FLOWSCOPE_INGEST_TOKENS stops start-up naming the entry, never its value', () => {
    const short = 'short-secret';
    let error: unknown;
    try {
      parseConfig(collectorConfigShape, { FLOWSCOPE_INGEST_TOKENS: `a:${TOKEN_A},b:${short}` });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('FLOWSCOPE_INGEST_TOKENS: entry 2 of 2');
    expect((error as Error).message).not.toContain(short);
    expect((error as Error).message).not.toContain(TOKEN_A);
    expect(() => parseConfig(collectorConfigShape, { FLOWSCOPE_INGEST_TOKENS: `a:${TOKEN_A},a:${TOKEN_B}` })).toThrow(/used twice/);
  });
});

describe('per-token ingest rate limit (FLOWSCOPE_INGEST_RATE_LIMIT)', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let collector: Collector;
  const LIMIT = 4;

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    // a window far longer than the test: the edge is counted, not timed
    collector = buildCollector({
      db,
      config: collectorConfig({ FLOWSCOPE_INGEST_TOKENS: TOKENS, FLOWSCOPE_INGEST_RATE_LIMIT: String(LIMIT), FLOWSCOPE_INGEST_RATE_WINDOW_SECONDS: '3600' }),
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await collector?.close();
    await dispose?.();
  });

  const send = (token: string, wf: string) =>
    collector.app.inject({
      method: 'POST',
      url: '/v1/traces',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      payload: JSON.stringify(body(wf)),
    });

  it('the limit passes, one more is 429 with Retry-After; other tokens keep their own budget; refused requests are not stored', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await send(TOKEN_A, `wf-rate-${i}`)).statusCode).toBe(200);
    const over = await send(TOKEN_A, 'wf-rate-over');
    expect(over.statusCode).toBe(429);
    const retryAfter = Number(over.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(over.json()).toEqual({ code: 8, message: expect.stringContaining(`ingest rate limit of ${LIMIT} requests per 3600 s`) as unknown });
    expect((await send(TOKEN_B, 'wf-rate-b')).statusCode).toBe(200);
    // a wrong token is refused as unauthenticated, not counted against anyone
    expect((await send(WRONG, 'wf-rate-wrong')).statusCode).toBe(401);
    const rows = await db.query<{ workflow_id: string }>("SELECT workflow_id FROM trace_steps WHERE workflow_id LIKE 'wf-rate-%' ORDER BY workflow_id");
    expect(rows.map((r) => r.workflow_id)).toEqual(['wf-rate-0', 'wf-rate-1', 'wf-rate-2', 'wf-rate-3', 'wf-rate-b']);
    const { values } = await collector.metrics.ingestRateLimited.get();
    expect(values).toEqual([expect.objectContaining({ labels: { token: 'svc-a' }, value: 1 })]);
  });

  it('gRPC past the limit: RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const port = await collector.listenGrpc({ host: '127.0.0.1', port: 0 });
    // TOKEN_A is already over its budget from the test above
    const r = await grpcExport(port, otlpProto(body('wf-rate-grpc')), `Bearer ${TOKEN_A}`);
    expect(r.error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(r.error?.metadata.get('grpc-status-details-bin')).toHaveLength(1);
  });
});
