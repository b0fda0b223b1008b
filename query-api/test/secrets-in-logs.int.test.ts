import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase } from '@flowscope/storage/testing';
import { makeApp, makeTokens, type Tokens } from './helpers.ts';

/** Issue 13 (4): a token never reaches a log line; browsers can authenticate the live stream off the URL. */
describe('tokens and the request log', () => {
  const lines: string[] = [];
  let app: FastifyInstance;
  let tokens: Tokens;
  let base = '';
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const t = await openTestDatabase('postgres');
    dispose = t.dispose;
    tokens = await makeTokens(t.db);
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(String(chunk)), done()) });
    app = await makeApp(t.db, {}, { logger: pino({ level: 'debug' }, sink) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const a = app.server.address();
    base = `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    await dispose();
  });

  const welcome = async (ws: WebSocket) => {
    const [data] = (await once(ws, 'message')) as [Buffer];
    return JSON.parse(String(data)) as { type: string };
  };

  it('the old ?token= still opens the live stream, and the log line shows the URL without it', async () => {
    const ws = new WebSocket(`ws://${base}/ws/debugging/?token=${encodeURIComponent(tokens.viewer)}&workflow_type=*`);
    expect(await welcome(ws)).toMatchObject({ type: 'welcome' });
    ws.close();
    await once(ws, 'close');
    // A token sent where no route takes it is not logged either.
    const res = await fetch(`http://${base}/api/v1/debugging/workflows?access_token=${tokens.admin}&limit=5`);
    expect(res.status).toBe(401);
    await new Promise((r) => setTimeout(r, 50));
    const log = lines.join('');
    expect(log).toContain('/ws/debugging/?token=***REDACTED***&workflow_type=*');
    expect(log).toContain('access_token=***REDACTED***&limit=5');
    expect(log).not.toContain(tokens.viewer);
    expect(log).not.toContain(tokens.admin);
  });

  it('takes the token as a WebSocket subprotocol and answers with flowscope.v1, never echoing the token', async () => {
    const ws = new WebSocket(`ws://${base}/ws/debugging/?workflow_type=*`, ['flowscope.v1', `flowscope.token.${tokens.viewer}`]);
    expect(await welcome(ws)).toMatchObject({ type: 'welcome' });
    expect(ws.protocol).toBe('flowscope.v1');
    ws.close();
    await once(ws, 'close');
    const bad = new WebSocket(`ws://${base}/ws/debugging/`, ['flowscope.v1', 'flowscope.token.fs_not_a_token']);
    bad.on('error', () => {});
    const [req, res] = (await once(bad, 'unexpected-response')) as [{ destroy(): void }, { statusCode: number }];
    expect(res.statusCode).toBe(401);
    req.destroy();
    expect(lines.join('')).not.toContain(tokens.viewer);
  });
});
