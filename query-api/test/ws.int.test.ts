import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import type { FastifyInstance } from 'fastify';
import type { Database } from '@flowscope/storage';
import { openTestDatabase } from '@flowscope/storage/testing';
import { LocalEventBus, publishEvent, type LiveEvent } from '../src/index.ts';
import { REDIS_URL, makeApp, makeTokens, redisPrefix, type Tokens } from './helpers.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

/** A WebSocket client that queues what it receives. */
class Client {
  readonly messages: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async connect(url: string, token: string): Promise<Client> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const c = new Client(ws);
    await once(ws, 'open');
    return c;
  }
  /** Resolves with the next message matching `pred` (consuming everything before it). */
  async next(pred: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i >= 0) return this.messages.splice(0, i + 1).at(-1)!;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  close() {
    this.ws.terminate();
  }
}

const workflowEvent = (type: string, workflowType: string, id: string): LiveEvent =>
  ({ type, workflow_id: id, workflow_type: workflowType, at: new Date().toISOString(), trace_id: 'a'.repeat(32) }) as LiveEvent;

async function startProcess(env: Record<string, string>): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', MAIN], {
    env: { ...process.env, ...env, FLOWSCOPE_QUERY_PORT: '0', FLOWSCOPE_QUERY_HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: proc.stdout! });
  for await (const line of lines) {
    let rec: { msg?: string; port?: number };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      continue;
    }
    if (rec.msg === 'query-api listening' && rec.port) {
      lines.on('line', () => {}); // keep draining stdout
      return { proc, base: `127.0.0.1:${rec.port}` };
    }
  }
  throw new Error(`query-api process exited with ${proc.exitCode}`);
}

describe('live stream across two query-api processes sharing Redis', () => {
  let db: Database;
  let url: string | undefined;
  let dispose: () => Promise<void>;
  let tokens: Tokens;
  const prefix = redisPrefix('ws');
  const procs: ChildProcess[] = [];
  let a: string;
  let b: string;
  const redis = new Redis(REDIS_URL, { lazyConnect: true });

  beforeAll(async () => {
    ({ db, url, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    await redis.connect();
    const env = { DATABASE_URL: url!, REDIS_URL, FLOWSCOPE_REDIS_PREFIX: prefix, WEBSOCKET_ENABLED: 'True' };
    const [pa, pb] = await Promise.all([startProcess(env), startProcess(env)]);
    procs.push(pa.proc, pb.proc);
    a = pa.base;
    b = pb.base;
  }, 120_000);
  afterAll(async () => {
    for (const p of procs) {
      if (p.exitCode === null) {
        p.kill('SIGTERM');
        await once(p, 'exit');
      }
    }
    redis.disconnect();
    await dispose?.();
  });

  it('an event published through one process reaches a client of the other, filtered by workflow type', async () => {
    const client = await Client.connect(`ws://${b}/ws/debugging/`, tokens.viewer);
    expect((await client.next()).type).toBe('welcome');
    client.ws.send(JSON.stringify({ type: 'subscribe', workflow_types: ['checkout'], alerts: true }));
    expect(await client.next()).toMatchObject({ type: 'subscribed', subscription: { workflow_types: ['checkout'], alerts: true } });

    const publish = (event: LiveEvent) =>
      fetch(`http://${a}/api/v1/debugging/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(event),
      });
    expect((await publish(workflowEvent('workflow.started', 'login', 'wf-login-9'))).status).toBe(202);
    expect((await publish(workflowEvent('workflow.failed', 'checkout', 'wf-checkout-9'))).status).toBe(202);
    const got = await client.next((m) => m.type === 'event');
    // the login event was published first on the same channel: the filter dropped it
    expect(got.event).toMatchObject({ type: 'workflow.failed', workflow_type: 'checkout', workflow_id: 'wf-checkout-9' });

    // what the collector / alerting worker call: publishEvent on their own Redis connection
    await publishEvent(redis, { type: 'alert.firing', alert_id: 7, rule_id: 3, rule_name: 'checkout p95', severity: 'critical', value: 612, threshold: 500, at: new Date().toISOString() }, { prefix });
    expect((await client.next((m) => m.type === 'event')).event).toMatchObject({ type: 'alert.firing', alert_id: 7 });
    // viewers may not publish
    const refused = await fetch(`http://${a}/api/v1/debugging/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.viewer}`, 'content-type': 'application/json' },
      body: JSON.stringify(workflowEvent('workflow.started', 'checkout', 'x')),
    });
    expect(refused.status).toBe(403);
    client.close();
  });

  it('the stream refuses a missing or revoked token, and takes ?token= from browsers', async () => {
    for (const headers of [{}, { authorization: `Bearer ${tokens.revoked}` }]) {
      const ws = new WebSocket(`ws://${a}/ws/debugging/`, { headers });
      ws.on('error', () => {});
      const [req, res] = (await once(ws, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
      expect(res.statusCode).toBe(401);
      req.destroy();
    }
    const browser = new Client(new WebSocket(`ws://${a}/ws/debugging/?token=${encodeURIComponent(tokens.viewer)}&workflow_type=*`));
    expect(await browser.next()).toMatchObject({ type: 'welcome', subscription: { workflow_types: ['*'] } });
    browser.close();
  });

  it('SIGTERM closes a process gracefully', async () => {
    const p = procs[1]!;
    p.kill('SIGTERM');
    const [code] = (await once(p, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});

describe('a slow live-stream client is dropped, a fast one is not', () => {
  let db: Database;
  let dispose: () => Promise<void>;
  let app: FastifyInstance;
  let tokens: Tokens;
  const bus = new LocalEventBus();

  beforeAll(async () => {
    ({ db, dispose } = await openTestDatabase('postgres'));
    tokens = await makeTokens(db);
    app = await makeApp(db, { FLOWSCOPE_WS_MAX_BUFFER_BYTES: '262144' }, { events: bus });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await dispose?.();
  });

  const droppedSlow = async () => {
    const text = await (await app.inject('/metrics')).body;
    const m = /flowscope_query_ws_dropped_total\{reason="slow_client"\} (\d+)/.exec(text);
    return Number(m?.[1] ?? 0);
  };

  it('bounded buffer', async () => {
    const port = (app.server.address() as { port: number }).port;
    const slow = await Client.connect(`ws://127.0.0.1:${port}/ws/debugging/?workflow_type=*`, tokens.viewer);
    const fast = await Client.connect(`ws://127.0.0.1:${port}/ws/debugging/?workflow_type=*`, tokens.viewer);
    await slow.next();
    await fast.next();
    // the slow client stops reading: its TCP window fills, then the server-side buffer grows
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const big = 'x'.repeat(64 * 1024);
    let sent = 0;
    while ((await droppedSlow()) === 0 && sent < 5000) {
      await bus.publish(workflowEvent('workflow.completed', 'checkout', `${sent}-${big}`));
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await droppedSlow()).toBe(1);
    // the fast client got every event, in order
    for (let i = 0; i < sent; i++) {
      const m = await fast.next((x) => x.type === 'event');
      expect(String((m.event as { workflow_id: string }).workflow_id).split('-')[0]).toBe(String(i));
    }
    const clients = /flowscope_query_ws_clients (\d+)/.exec((await app.inject('/metrics')).body);
    expect(Number(clients?.[1])).toBe(1);
    slow.close();
    fast.close();
  });
});
