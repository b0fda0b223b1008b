/**
 * deploy/nginx/flowscope.conf for real: Debian's nginx (`nginx-light`; .ci/run installs it)
 * runs the committed server blocks, with only the upstream addresses, listen ports and
 * certificate folder rewritten to this machine, in front of the collector and query API (in
 * process, on PostgreSQL) with a self-signed certificate made by openssl. Every route is
 * exercised through TLS: the UI and API, the WebSocket upgrade of the live stream, OTLP/HTTP
 * and OTLP/gRPC (HTTP/2, `grpc_pass`) from the OpenTelemetry SDK's exporters, the headers of the
 * replaced system, the HTTP→HTTPS redirect.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OTLPGrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { FastifyInstance } from 'fastify';
import { buildCollector, collectorConfigShape, type Collector } from '@flowscope/collector';
import { loggingConfigShape, parseConfig } from '@flowscope/common';
import { freePort } from '@flowscope/common/testing';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';
import { openDatabase, storageConfigShape, type Database } from '@flowscope/storage';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';

// Debian installs it in /usr/sbin, which a non-root PATH may lack.
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const CONF = join(import.meta.dirname, '..', 'nginx', 'flowscope.conf');
const SECURITY_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
};

const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The committed config with this machine's addresses: what the test changes is only these. */
function localizeConf(conf: string, at: { queryApi: number; collector: number; grpc: number; https: number; http: number; certs: string }): string {
  const out = conf
    .replace('server query-api:8000;', `server 127.0.0.1:${at.queryApi};`)
    .replace('server collector:4318;', `server 127.0.0.1:${at.collector};`)
    .replace('server collector:4317;', `server 127.0.0.1:${at.grpc};`)
    .replace(/^\s*listen \[::\]:\d+.*$/gm, '')
    .replace('listen 80;', `listen 127.0.0.1:${at.http};`)
    .replace('listen 443 ssl http2;', `listen 127.0.0.1:${at.https} ssl http2;`)
    .replaceAll('/etc/nginx/certs/', `${at.certs}/`);
  for (const kept of ['127.0.0.1:' + at.queryApi, '127.0.0.1:' + at.collector, '127.0.0.1:' + at.grpc, `127.0.0.1:${at.https} ssl`, `127.0.0.1:${at.http};`]) {
    if (!out.includes(kept)) throw new Error(`deploy/nginx/flowscope.conf changed shape: ${kept} not substituted`);
  }
  return out;
}

describe('deploy/nginx/flowscope.conf in front of flowscope', () => {
  let database: TestDatabase;
  let db: Database;
  let collector: Collector;
  let queryApi: FastifyInstance;
  let nginx: ChildProcess;
  let nginxLog = '';
  let dir: string;
  let cert: string;
  let https: number;
  let http: number;
  let admin: string;
  let grpcPort: number;

  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: https, path, method: 'GET', ca: cert, servername: 'localhost', headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    database = await createTestDatabase('fs_nginx');
    const config = parseConfig(
      { ...loggingConfigShape, ...storageConfigShape, ...queryApiConfigShape, ...collectorConfigShape },
      { DATABASE_URL: database.url, LOG_LEVEL: 'silent', DEBUGGING_TRACE_SAMPLING_RATE: '1' },
    );
    const logger = pino({ level: 'silent' });
    db = await openDatabase(config);
    collector = buildCollector({ db, config, logger });
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    queryApi = await buildQueryApi({ db, config, logger });
    await queryApi.listen({ host: '127.0.0.1', port: 0 });
    grpcPort = await collector.listenGrpc({ host: '127.0.0.1', port: 0 });
    admin = (await createToken(db, { name: 'nginx-test', role: 'admin' })).token;

    dir = mkdtempSync(join(tmpdir(), 'flowscope-nginx-'));
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', join(certs, 'tls.key'), '-out', join(certs, 'tls.crt')], { stdio: 'ignore' });
    cert = readFileSync(join(certs, 'tls.crt'), 'utf8');
    [https, http] = [await freePort(), await freePort()];
    const conf = localizeConf(readFileSync(CONF, 'utf8'), { queryApi: portOf(queryApi), collector: portOf(collector.app), grpc: grpcPort, https, http, certs });
    writeFileSync(join(dir, 'flowscope.conf'), conf);
    // The main file the nginx image has, reduced to what a non-default prefix needs.
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents {}\nhttp {\n  access_log off;\n` +
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};\n`).join('') +
        `  include ${dir}/flowscope.conf;\n}\n`,
    );
    execFileSync(NGINX, ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.on('error', (err) => (nginxLog += `cannot start nginx (apt-get install nginx-light; .ci/run does it): ${err.message}\n`));
    nginx.stderr!.on('data', (d: Buffer) => (nginxLog += d.toString()));
    for (let i = 0; i < 100; i++) {
      if (nginx.exitCode !== null || nginxLog.includes('cannot start')) throw new Error(`nginx exited:\n${nginxLog}`);
      const up = await get('/health').then(() => true, () => false);
      if (up) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((r) => nginx.once('exit', r));
    }
    await queryApi?.close();
    await collector?.close();
    await db?.close();
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API through TLS with the security headers, on success and on refusal', async () => {
    const health = await get('/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'healthy' });
    expect(health.headers).toMatchObject(SECURITY_HEADERS);
    expect(health.headers.server).toBe('nginx');

    const refused = await get('/api/v1/debugging/workflows');
    expect(refused.status).toBe(401);
    expect(refused.headers).toMatchObject(SECURITY_HEADERS);
    const listed = await get('/api/v1/debugging/workflows', { authorization: `Bearer ${admin}` });
    expect(listed.status).toBe(200);
    expect((await get('/jaeger/api/services', { authorization: `Bearer ${admin}` })).status).toBe(200);
  });

  it('serves the UI at / and its page URLs as the query API does, and hides /metrics', async () => {
    const direct = await fetch(`http://127.0.0.1:${portOf(queryApi)}/workflows`);
    const proxied = await get('/workflows');
    expect(proxied.status).toBe(direct.status);
    expect(proxied.body).toBe(await direct.text());
    expect(proxied.headers['content-security-policy']).toBe(direct.headers.get('content-security-policy') ?? undefined);
    expect((await fetch(`http://127.0.0.1:${portOf(queryApi)}/metrics`)).status).toBe(200);
    expect((await get('/metrics')).status).toBe(404);
  });

  it('redirects plain HTTP to HTTPS', async () => {
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: http, path: '/workflows?x=1', headers: { host: 'flowscope.example.com' } }, (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, location: r.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    expect(res.status).toBe(301);
    expect(res.location).toBe('https://flowscope.example.com/workflows?x=1');
  });

  it('upgrades /ws/debugging/ to a WebSocket with the token subprotocol', async () => {
    const head = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: https, ca: cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () => {
        socket.write(
          'GET /ws/debugging/ HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
            `Sec-WebSocket-Protocol: flowscope.v1, flowscope.token.${admin}\r\n\r\n`,
        );
      });
      let data = '';
      socket.on('data', (d: Buffer) => {
        data += d.toString('latin1');
        if (data.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(data.slice(0, data.indexOf('\r\n\r\n')));
        }
      });
      socket.on('error', reject);
    });
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head.toLowerCase()).toContain('upgrade: websocket');
    expect(head.toLowerCase()).toContain('sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=');
  });

  it('passes OTLP/HTTP from the OpenTelemetry SDK to the collector; the span is stored', async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'nginx-shop' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `https://localhost:${https}/v1/traces`, httpAgentOptions: { ca: cert } }))],
    });
    const span = provider.getTracer('nginx').startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'workflow.type': 'checkout', 'workflow.id': 'nginx-order-1' } });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    const workflow = await get('/api/v1/debugging/workflows/nginx-order-1', { authorization: `Bearer ${admin}` });
    expect(workflow.status).toBe(200);
    expect(workflow.body).toContain('"workflow_type":"checkout"');
    expect(workflow.headers).toMatchObject(SECURITY_HEADERS);
  });

  it('passes OTLP/gRPC (HTTP/2 over TLS, grpc_pass) from the OpenTelemetry gRPC exporter to the collector; the spans are stored', async () => {
    // the collector's gRPC port speaks plaintext HTTP/2 only: an export that succeeds over TLS went through nginx
    const grpcRequests = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${portOf(collector.app)}/metrics`)).text();
      return [...text.matchAll(/^flowscope_export_requests_total\{([^}]*)\} (\d+)/gm)]
        .filter((m) => m[1]!.includes('transport="grpc"') && m[1]!.includes('code="OK"'))
        .reduce((sum, m) => sum + Number(m[2]), 0);
    };
    const before = await grpcRequests();
    const sent: { workflowId: string; spanIds: string[] }[] = [];
    for (const compression of ['none', 'gzip'] as const) {
      const exporter = new OTLPGrpcTraceExporter({
        url: `https://localhost:${https}`,
        credentials: credentials.createSsl(Buffer.from(cert)),
        compression: compression as NonNullable<ConstructorParameters<typeof OTLPGrpcTraceExporter>[0]>['compression'],
      });
      const provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': `nginx-grpc-shop-${compression}` }),
        // one export call per provider: the workflow's spans arrive together
        spanProcessors: [new BatchSpanProcessor(exporter)],
      });
      const tracer = provider.getTracer('nginx-grpc');
      const workflowId = `nginx-grpc-order-${compression}`;
      const root = tracer.startSpan('POST /checkout', { kind: SpanKind.SERVER, attributes: { 'workflow.type': 'checkout', 'workflow.id': workflowId } });
      const insert = tracer.startSpan('INSERT orders', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql' } }, trace.setSpan(context.active(), root));
      insert.end();
      root.end();
      await provider.forceFlush();
      await provider.shutdown();
      sent.push({ workflowId, spanIds: [root, insert].map((x) => x.spanContext().spanId).sort() });
    }
    expect(await grpcRequests()).toBeGreaterThanOrEqual(before + 2);
    for (const { workflowId, spanIds } of sent) {
      const workflow = await get(`/api/v1/debugging/workflows/${workflowId}`, { authorization: `Bearer ${admin}` });
      expect(workflow.status, workflowId).toBe(200);
      expect(workflow.body).toContain('"workflow_type":"checkout"');
      for (const id of spanIds) expect(workflow.body, `${workflowId} span ${id}`).toContain(id);
    }
    const conf = readFileSync(CONF, 'utf8');
    expect(conf).toMatch(/location \/opentelemetry\.proto\.collector\.trace\.v1\.TraceService\/ \{\s+grpc_pass grpc:\/\/flowscope_collector_grpc;/);
  });
});
