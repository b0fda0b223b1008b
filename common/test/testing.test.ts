/**
 * `@flowscope/common/testing`: the one free-port helper of the repository's tests (and the bench
 * harness). It hands out a loopback port nothing listens on, which a server can then bind; and no
 * other file keeps a copy of it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../src/testing.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** Every TypeScript file of the workspace outside node_modules and builds. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name === 'lib' || e.name.startsWith('.')) return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.m?tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** A helper that binds port 0, reads the port and closes the server again: a free-port copy. */
const FREE_PORT_COPY = /\blisten\(0\b[\s\S]{0,200}?\.address\(\)[\s\S]{0,200}?\.close\(/;
const NAMED_COPY = /(?:const|function)\s+(?:freePort|closedPort|getFreePort|findFreePort)\b/;

describe('freePort', () => {
  it('gives a loopback port nothing listens on, that a server can then bind', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.on('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    expect((server.address() as { port: number }).port).toBe(port);
    await new Promise((r) => server.close(r));
  });

  it('hands out different ports to calls in a row', async () => {
    const ports = new Set([await freePort(), await freePort(), await freePort()]);
    expect(ports.size).toBe(3);
  });

  it('is the only copy: no other file of the workspace defines its own', () => {
    const files = sources(ROOT);
    expect(files.length).toBeGreaterThan(100);
    const self = join(ROOT, 'common', 'src', 'testing.ts');
    expect(FREE_PORT_COPY.test(readFileSync(self, 'utf8')), 'the pattern finds the helper itself').toBe(true);
    expect(NAMED_COPY.test(readFileSync(self, 'utf8'))).toBe(true);
    const copies = files
      .filter((f) => f !== self && f !== join(ROOT, 'common', 'test', 'testing.test.ts'))
      .filter((f) => {
        const text = readFileSync(f, 'utf8');
        return FREE_PORT_COPY.test(text) || NAMED_COPY.test(text);
      })
      .map((f) => relative(ROOT, f));
    expect(copies).toEqual([]);
  });
});
