import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';
import { UI_DIST_DIR, UI_ROUTES, uiBuilt } from '@flowscope/ui';

/**
 * The browser UI's policy: everything from this origin, no inline script or style element,
 * no framing. `connect-src 'self'` covers the same-origin WebSocket (ws/wss) as well.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = (reply: FastifyReply) =>
  reply
    .header('content-security-policy', UI_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>flowscope</title></head>
<body><h1>The flowscope UI is not built</h1><p>Run <code>npx pnpm@10.34.8 --filter @flowscope/ui build</code>
(the README's start and test commands do it) and reload. The API is at <a href="/docs">/docs</a>.</p></body></html>`;

/**
 * Serves the UI: its hashed assets under /assets/ and, at each of its URLs (UI_ROUTES), the
 * page shell, so that every page can be bookmarked and reloaded (history routing). The shell
 * carries no data and needs no token; the pages fetch /api/v1/debugging with the token the
 * person signed in with. Nothing here shadows /api, /jaeger, /ws, /docs, /health, /ready or /metrics.
 */
export async function uiRoutes(app: FastifyInstance, distDir: string = UI_DIST_DIR): Promise<void> {
  let shell: string | undefined;
  const loadShell = async (): Promise<string | undefined> => {
    if (shell !== undefined) return shell;
    if (!uiBuilt(distDir)) return undefined;
    shell = await readFile(join(distDir, 'index.html'), 'utf8');
    return shell;
  };

  await app.register(fastifyStatic, {
    root: join(distDir, 'assets'),
    prefix: '/assets/',
    // file names carry a content hash: they never change
    immutable: true,
    maxAge: '365d',
    index: false,
    setHeaders: (res) => {
      res.header('x-content-type-options', 'nosniff');
    },
  });

  for (const { path } of UI_ROUTES) {
    app.get(path, { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
      const html = await loadShell();
      securityHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8');
      if (html === undefined) return reply.code(503).send(NOT_BUILT);
      return reply.send(html);
    });
  }
}
