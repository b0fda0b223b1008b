/**
 * A load generator process (forked by the ingest benchmark). It encodes workload batches with
 * the OpenTelemetry serializer once, then sends them over loopback to a collector, giving each
 * request fresh trace ids, and reports acknowledgement latencies to its parent over IPC.
 *
 *   closed loop: `concurrency` requests in flight, each sent when the previous one is answered
 *                (the sustained rate);
 *   open loop:   requests started at a fixed rate whatever the answers (latency at a given load).
 *
 * A refused request (429/503, gRPC RESOURCE_EXHAUSTED/UNAVAILABLE) is counted and, as exporters
 * do, retried after a pause; only acknowledged spans count toward the rate.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { TRACE_EXPORT_PATH, TraceServiceClient } from './lib/otlp-grpc.ts';
import { BatchTemplate, makeBatch, prng } from './lib/workload.ts';

export type LoadCommand =
  | { cmd: 'prepare'; seed: number; templates: number; spansPerBatch: number }
  | { cmd: 'run'; transport: 'http' | 'grpc'; target: string; durationMs: number; concurrency: number; ratePerSecond?: number }
  | { cmd: 'exit' };

export interface LoadResult {
  type: 'result';
  requests: number;
  spans: number;
  refused: Record<string, number>;
  latenciesMs: number[];
  elapsedMs: number;
}

let templates: BatchTemplate[] = [];
let nextTemplate = 0;
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let grpcClient: grpc.Client | undefined;
let grpcTarget = '';

function sendHttp(target: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function sendGrpc(target: string, body: Buffer): Promise<string> {
  if (!grpcClient || grpcTarget !== target) {
    grpcClient?.close();
    grpcTarget = target;
    grpcClient = new TraceServiceClient(target, grpc.credentials.createInsecure());
  }
  const client = grpcClient;
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      TRACE_EXPORT_PATH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      (err: grpc.ServiceError | null) => resolve(err ? `grpc-${grpc.status[err.code] ?? err.code}` : '200'),
    );
  });
}

async function run(c: Extract<LoadCommand, { cmd: 'run' }>): Promise<LoadResult> {
  const send = c.transport === 'http' ? sendHttp : sendGrpc;
  const result: LoadResult = { type: 'result', requests: 0, spans: 0, refused: {}, latenciesMs: [], elapsedMs: 0 };
  const start = performance.now();
  const end = start + c.durationMs;
  const one = async (): Promise<boolean> => {
    const template = templates[nextTemplate++ % templates.length]!;
    const body = Buffer.from(template.renew()); // a copy: the template changes under the next request
    const t0 = performance.now();
    let code: string;
    try {
      code = await send(c.target, body);
    } catch (err) {
      code = `error-${(err as NodeJS.ErrnoException).code ?? 'unknown'}`;
    }
    const ms = performance.now() - t0;
    result.requests++;
    if (code === '200') {
      result.spans += template.spanCount;
      result.latenciesMs.push(ms);
      return true;
    }
    result.refused[code] = (result.refused[code] ?? 0) + 1;
    return false;
  };
  if (!c.ratePerSecond) {
    await Promise.all(
      Array.from({ length: c.concurrency }, async () => {
        while (performance.now() < end) {
          if (!(await one())) await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
  } else {
    const spansPerRequest = templates[0]!.spanCount;
    const intervalMs = (1000 * spansPerRequest) / c.ratePerSecond;
    const inflight = new Set<Promise<boolean>>();
    for (let i = 0; ; i++) {
      const due = start + i * intervalMs;
      if (due >= end) break;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (inflight.size >= 256) {
        result.refused['client-backlog'] = (result.refused['client-backlog'] ?? 0) + 1;
        continue;
      }
      const p = one();
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await Promise.all(inflight);
  }
  result.elapsedMs = performance.now() - start;
  return result;
}

process.on('message', (msg: LoadCommand) => {
  const reply = (m: unknown) => process.send?.(m);
  if (msg.cmd === 'prepare') {
    const rand = prng(msg.seed);
    templates = Array.from({ length: msg.templates }, () => new BatchTemplate(makeBatch(rand, msg.spansPerBatch, Date.now())));
    reply({ type: 'ready', bodyBytes: templates[0]!.body.length, spansPerBatch: templates[0]!.spanCount });
  } else if (msg.cmd === 'run') {
    run(msg).then(reply, (err: unknown) => reply({ type: 'error', message: String(err) }));
  } else {
    grpcClient?.close();
    agent.destroy();
    process.exit(0);
  }
});
