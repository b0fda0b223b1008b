import { createServer } from 'node:net';

/**
 * Test helpers shared by the packages' tests (`@flowscope/common/testing`; not used by the
 * processes). A loopback port free at the time of the call, for a process or server a test
 * starts on a port it must name in advance.
 */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
