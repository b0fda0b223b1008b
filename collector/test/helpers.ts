import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { parseConfig } from '@flowscope/common';
import type { Database } from '@flowscope/storage';
import { openTestDatabase, type Driver } from '@flowscope/storage/testing';
import { buildCollector, collectorConfigShape, type Collector } from '../src/index.ts';
import { ExportTraceServiceRequest } from '../src/otlp.ts';

export const testLogger = () => pino({ level: process.env.FLOWSCOPE_TEST_LOG_LEVEL ?? 'silent' });

/** Collector config for tests: keeps every trace unless the test sets a sampling rate. */
export function collectorConfig(env: Record<string, string> = {}) {
  return parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1', ...env });
}

export interface TestCollector {
  collector: Collector;
  db: Database;
  url?: string | undefined;
  /** Base URL when listening (listen: true). */
  base: string;
  dispose(): Promise<void>;
}

export async function startCollector(
  driver: Driver,
  env: Record<string, string> = {},
  options: { listen?: boolean; db?: Database } = {},
): Promise<TestCollector> {
  const t = options.db ? { db: options.db, url: undefined, dispose: async () => {} } : await openTestDatabase(driver);
  const collector = buildCollector({ db: t.db, config: collectorConfig(env), logger: testLogger() });
  let base = '';
  if (options.listen) {
    await collector.app.listen({ host: '127.0.0.1', port: 0 });
    const a = collector.app.server.address();
    base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }
  return {
    collector,
    db: t.db,
    url: t.url,
    base,
    dispose: async () => {
      await collector.close();
      await t.dispose();
    },
  };
}

let counter = 0;
/** A fresh random-looking trace id (hex, 32 chars). */
export const traceId = () => (Date.now().toString(16) + (++counter).toString(16).padStart(8, '0') + Math.random().toString(16).slice(2)).padEnd(32, '7').slice(0, 32);
export const spanId = (n: number) => (n + 1).toString(16).padStart(16, '0');

export interface SpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startMs?: number;
  durationMs?: number;
  attributes?: Record<string, string | number | boolean>;
  status?: { code: number; message?: string };
  events?: { name: string; timeMs?: number; attributes?: Record<string, string> }[];
}

const kv = (attrs: Record<string, string | number | boolean> = {}) =>
  Object.entries(attrs).map(([key, v]) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));

/** An OTLP/JSON ExportTraceServiceRequest object. */
export function otlpJson(service: string, spans: SpanSpec[], resource: Record<string, string> = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: kv({ 'service.name': service, ...resource }) },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((s) => {
              const start = BigInt(Math.round((s.startMs ?? Date.now()) * 1000)) * 1000n;
              return {
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name ?? 'op',
                kind: s.kind ?? 1,
                startTimeUnixNano: String(start),
                endTimeUnixNano: String(start + BigInt(Math.round((s.durationMs ?? 5) * 1e6))),
                attributes: kv(s.attributes),
                events: (s.events ?? []).map((e) => ({
                  name: e.name,
                  timeUnixNano: String(BigInt(Math.round((e.timeMs ?? s.startMs ?? Date.now()) * 1000)) * 1000n),
                  attributes: kv(e.attributes),
                })),
                status: s.status ?? { code: 0 },
              };
            }),
          },
        ],
      },
    ],
  };
}

/** The same request as protobuf bytes (ids converted from hex). */
export function otlpProto(json: ReturnType<typeof otlpJson>): Buffer {
  const hexToBytes = (h: string) => Buffer.from(h, 'hex');
  const copy = structuredClone(json) as unknown as {
    resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
  };
  for (const rs of copy.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans) {
        s.traceId = hexToBytes(s.traceId as string);
        s.spanId = hexToBytes(s.spanId as string);
        s.parentSpanId = hexToBytes(s.parentSpanId as string);
      }
  return Buffer.from(ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(copy)).finish());
}

export const gzip = (b: Buffer | string) => gzipSync(b);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export { freePort } from '@flowscope/common/testing';

/** Starts `tsx collector/src/main.ts` and resolves once it logs that it listens. */
export function startProcess(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'collector/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('collector listening')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited with ${code}:\n${out}`));
    });
  });
}

/**
 * A TCP proxy in front of the real PostgreSQL: closing it is PostgreSQL going away for this
 * collector only (other test files keep using the server), reopening it on the same port is
 * PostgreSQL coming back.
 */
export class PgProxy {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }
}
