import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { openTestDatabase } from '@flowscope/storage/testing';
import { makeApp, makeTokens } from './helpers.ts';

/** Issue 13 (6): a live-stream client that ignores the close frame does not hold shutdown for ws's 30 s. */
describe('shutdown with a stuck live-stream client', () => {
  it('cuts the connection after FLOWSCOPE_WS_CLOSE_GRACE_MS and close() finishes', async () => {
    const t = await openTestDatabase('postgres');
    try {
      const tokens = await makeTokens(t.db);
      const app = await makeApp(t.db, { FLOWSCOPE_WS_CLOSE_GRACE_MS: '100' });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const a = app.server.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      // A hand-made WebSocket client: it completes the handshake, then never reads or answers.
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        `GET /ws/debugging/?workflow_type=* HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${tokens.viewer}\r\n\r\n`,
      );
      const [head] = (await once(socket, 'data')) as [Buffer];
      expect(String(head)).toMatch(/^HTTP\/1\.1 101/);
      socket.on('data', () => {}); // reads, never answers (not even the close frame)
      socket.on('error', () => {});
      const cut = once(socket, 'close').then(() => 'cut');
      const closed = app.close().then(() => 'closed');
      // ws alone waits 30 s for the closing handshake; the grace here is 100 ms.
      const outcome = await Promise.race([Promise.all([cut, closed]).then(() => 'both'), new Promise((r) => setTimeout(() => r('still open after 10 s'), 10_000))]);
      expect(outcome).toBe('both');
    } finally {
      await t.dispose();
    }
  }, 20_000);
});
