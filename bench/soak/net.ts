import http from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { TraceServiceClient } from '../lib/otlp-grpc.ts';

/**
 * A TCP relay in front of a shared server (PostgreSQL, Redis): stopping it is that server going
 * away for the soak's processes only, never for anyone else on the machine.
 */
export class Relay {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  constructor(
    private readonly targetPort: number,
    public port = 0,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      // A side that fails (a reset) cuts the other, and a side that closes ends the other:
      // `pipe` passes only a clean end on. A process killed with SIGKILL can reset its sockets,
      // which left PostgreSQL holding the dead collector's open transaction (and its row locks)
      // for as long as the relay lived, so the restarted collector waited on them forever.
      // Without a relay the server sees the reset itself.
      const pair = [client, upstream] as const;
      for (const s of pair) {
        const other = s === client ? upstream : client;
        this.sockets.add(s);
        s.on('error', () => other.destroy());
        s.on('close', () => {
          this.sockets.delete(s);
          other.end();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  /** Refuses new connections and cuts every open one. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

export interface HttpAnswer {
  status: number;
  retryAfter?: number;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs a body; `slowChunks` sends it in pieces with pauses; `abortAfter` cuts the request after that many bytes. */
export function postOtlp(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  options: { slowChunks?: number; pauseMs?: number; abortAfter?: number; timeoutMs?: number } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: options.abortAfter !== undefined ? undefined : agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ra = Number(res.headers['retry-after']);
        resolve({ status: res.statusCode ?? 0, ...(Number.isFinite(ra) ? { retryAfter: ra } : {}), body: Buffer.concat(chunks).toString('utf8').slice(0, 300) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    // an answer that never comes is reported (as an error), never waited for forever
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('no answer in time')));
    if (options.abortAfter !== undefined) {
      req.write(body.subarray(0, options.abortAfter), () => setTimeout(() => {
        req.destroy();
        resolve({ status: 0, body: 'aborted by the client' });
      }, 20));
      return;
    }
    const n = options.slowChunks ?? 1;
    if (n <= 1) {
      req.end(body);
      return;
    }
    const size = Math.ceil(body.length / n);
    let i = 0;
    const next = () => {
      const part = body.subarray(i * size, (i + 1) * size);
      i += 1;
      if (i >= n) req.end(part);
      else req.write(part, () => setTimeout(next, options.pauseMs ?? 50));
    };
    next();
  });
}

/** Sends OTLP/gRPC TraceService/Export as the OTel exporter calls it (TraceServiceClient), reconnecting quickly. */
export class GrpcSender {
  private client: grpc.Client | undefined;
  private unavailable = 0;
  constructor(private readonly target: string) {}

  export(body: Buffer): Promise<{ code: number; details: string }> {
    // Reconnect quickly after a collector restart (grpc-js backs off up to 120 s by default,
    // which would stall the soak's traffic, not test the collector).
    this.client ??= new TraceServiceClient(this.target, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    const c = this.client as unknown as { Export: (b: Buffer, m: grpc.Metadata, o: { deadline: number }, cb: (e: grpc.ServiceError | null) => void) => void };
    return new Promise((resolve) => {
      c.Export.call(this.client, body, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => {
        // a channel that keeps failing after a collector restart is replaced, as a fresh exporter would be
        if ((err?.code === grpc.status.UNAVAILABLE || err?.code === grpc.status.DEADLINE_EXCEEDED) && ++this.unavailable >= 2) this.replace();
        if (!err) this.unavailable = 0;
        resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '' });
      });
    });
  }

  /** A fresh channel for the next calls; the old one is closed once its calls are past their deadline. */
  private replace(): void {
    const old = this.client;
    this.client = undefined;
    this.unavailable = 0;
    if (old) setTimeout(() => old.close(), 15_000).unref();
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
    this.unavailable = 0;
  }
}
