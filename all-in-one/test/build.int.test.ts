import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@flowscope/storage/testing';
import { UI_DIST_DIR } from '@flowscope/ui';
import { freePort, sendCheckout } from './helpers.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'compiled-admin-token-0123456789abcdef';
const SERVER_PACKAGES = ['common', 'storage', 'collector', 'query-api', 'alerting', 'all-in-one'] as const;


/** The environment of a production process: no tsx, no `flowscope-source` condition inherited. */
function productionEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'info', ...extra };
  delete env.NODE_OPTIONS;
  delete env.REDIS_URL;
  delete env.FLOWSCOPE_ADMIN_TOKEN;
  return { ...env, ...extra };
}

interface Running {
  child: ChildProcess;
  output: () => string;
}

/** `node <package>/dist/main.js` exactly as the images run it; resolves once `ready` is logged. */
async function startCompiled(main: string, ready: string, env: Record<string, string>, cwd = ROOT): Promise<Running> {
  const child = spawn(process.execPath, [main], { cwd, env: productionEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (let i = 0; i < 600 && !output.includes(ready); i++) {
    if (child.exitCode !== null) throw new Error(`${main} exited:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!output.includes(ready)) throw new Error(`${main} did not log "${ready}":\n${output}`);
  return { child, output: () => output };
}

async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  running.child.kill('SIGTERM');
  await new Promise((r) => running.child.once('exit', r));
}

const jsFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(join(dir, e.name)) : e.name.endsWith('.js') ? [join(dir, e.name)] : []));

/**
 * The production build (`pnpm build`: `tsc -b tsconfig.build.json`) and the compiled processes:
 * plain `node collector/dist/main.js` and `node query-api/dist/main.js` on real PostgreSQL, a span
 * in through OTLP and back out through the REST API. Node 20 cannot load a .ts file, so a compiled
 * module that still reached a package's sources would make the process exit.
 */
describe('compiled JavaScript (tsc build) run with plain node', () => {
  let database: TestDatabase;
  const running: Running[] = [];
  let otlp: number;
  let api: number;

  beforeAll(async () => {
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: ROOT });
    database = await createTestDatabase('fs_compiled');
  }, 600_000);

  afterAll(async () => {
    await Promise.all(running.map(stop));
    await database?.drop();
  });

  it('builds every server package into dist/ with exports pointing at it and no .ts import left', () => {
    for (const name of SERVER_PACKAGES) {
      // the all-in-one is a process, not a library: it exports nothing (workspace-packages.test.ts)
      const pkg = JSON.parse(readFileSync(join(ROOT, name, 'package.json'), 'utf8')) as { exports?: Record<string, Record<string, string>> };
      expect(pkg.exports === undefined, name).toBe(name === 'all-in-one');
      for (const [sub, target] of Object.entries(pkg.exports ?? {})) {
        expect(Object.keys(target), `${name} ${sub}`).toEqual(['flowscope-source', 'default']);
        expect(target['flowscope-source']).toMatch(/^\.\/src\/.+\.ts$/);
        expect(target.default).toBe(target['flowscope-source']!.replace('./src/', './dist/').replace(/\.ts$/, '.js'));
        // what production's plain node loads is there after the build
        expect(existsSync(join(ROOT, name, target.default!)), `${name} ${sub} ${target.default}`).toBe(true);
      }
      const files = jsFiles(join(ROOT, name, 'dist'));
      expect(files.length, name).toBeGreaterThan(0);
      for (const f of files) expect(readFileSync(f, 'utf8'), f).not.toMatch(/from '[^']+\.ts'|import\('[^']+\.ts'\)/);
    }
    for (const main of ['collector', 'query-api', 'alerting', 'all-in-one']) expect(existsSync(join(ROOT, main, 'dist/main.js')), main).toBe(true);
    const ui = JSON.parse(readFileSync(join(ROOT, 'ui/package.json'), 'utf8')) as { exports: Record<string, { default: string }> };
    for (const target of Object.values(ui.exports)) expect(existsSync(join(ROOT, 'ui', target.default)), `ui ${target.default}`).toBe(true);
  });

  it('the compiled @flowscope/ui finds the same built UI folder as its sources', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('@flowscope/ui'); process.stdout.write(m.UI_DIST_DIR)"], {
      cwd: join(ROOT, 'query-api'),
      env: productionEnv({}),
    });
    expect(stdout).toBe(UI_DIST_DIR);
  });

  it('starts the compiled collector and query API: /health answers, a span goes in and comes back', async () => {
    [otlp, api] = [await freePort(), await freePort()];
    const grpc = await freePort();
    const common = { DATABASE_URL: database.url, DEBUGGING_TRACE_SAMPLING_RATE: '1' };
    running.push(
      await startCompiled('collector/dist/main.js', 'collector listening', {
        ...common,
        FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
        FLOWSCOPE_COLLECTOR_PORT: String(otlp),
        FLOWSCOPE_COLLECTOR_GRPC_PORT: String(grpc),
      }),
    );
    running.push(
      await startCompiled('query-api/dist/main.js', 'query-api listening', {
        ...common,
        FLOWSCOPE_QUERY_HOST: '127.0.0.1',
        FLOWSCOPE_QUERY_PORT: String(api),
        FLOWSCOPE_ADMIN_TOKEN: TOKEN,
      }),
    );
    for (const port of [otlp, api]) {
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'healthy' });
    }

    await sendCheckout(`http://127.0.0.1:${otlp}/v1/traces`, 'compiled-order-1', { service: 'compiled-shop' });

    expect((await fetch(`http://127.0.0.1:${api}/api/v1/debugging/workflows/compiled-order-1`)).status).toBe(401);
    const res = await fetch(`http://127.0.0.1:${api}/api/v1/debugging/workflows/compiled-order-1`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = JSON.stringify(await res.json());
    expect(body).toContain('"workflow_type":"checkout"');
    expect(body).toContain('"status":"failed"');
    expect(body).toContain('INSERT orders');
  });

  it("the image's file layout runs: the Dockerfile's manifests, a production-only install, its COPY --from=build list", async () => {
    // What the production stage of deploy/Dockerfile holds, assembled in a folder by following
    // its own lines: then the processes must run from there, without dev dependencies or sources.
    const dockerfile = readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8');
    const stageLines = (name: string) => dockerfile.split(/^FROM /m).find((b) => b.split('\n')[0]!.endsWith(` AS ${name}`))!.split('\n');
    const image = mkdtempSync(join(tmpdir(), 'flowscope-image-'));
    try {
      for (const line of stageLines('manifests')) {
        // `COPY a b c dest/`: every source lands at its own relative path under /app
        const m = /^COPY (.+) (\S+)$/.exec(line);
        if (!m) continue;
        for (const src of m[1]!.split(' ')) cpSync(join(ROOT, src), join(image, src), { recursive: true });
      }
      const install = stageLines('base').find((l) => l.startsWith('RUN ') && l.includes(' install '))!;
      const args = /pnpm@[\d.]+ (install .+?) \\$/.exec(install)![1]!.split(' ').map((a) => a.replace(/^'(.*)'$/, '$1'));
      await run('npx', ['-y', 'pnpm@10.34.8', ...args, '--prefer-offline'], { cwd: image, env: productionEnv({}) });
      expect(existsSync(join(image, 'node_modules/.pnpm'))).toBe(true);
      // the development install has the compiler and tsx; the image does not
      for (const dev of ['typescript', 'tsx', 'vitest']) {
        expect(existsSync(join(ROOT, 'node_modules', dev)), dev).toBe(true);
        expect(existsSync(join(image, 'node_modules', dev)), dev).toBe(false);
        expect(readdirSync(join(image, 'node_modules/.pnpm')).some((d) => d.startsWith(`${dev}@`)), dev).toBe(false);
      }
      let copied = 0;
      for (const line of stageLines('base')) {
        const m = /^COPY (?:--from=build \/app\/)?(\S+) (\S+)$/.exec(line);
        if (!m || line.includes('--from=manifests')) continue;
        expect(m[2]).toBe(m[1]);
        cpSync(join(ROOT, m[1]!), join(image, m[2]!), { recursive: true });
        copied++;
      }
      expect(copied).toBeGreaterThan(8);
      expect(existsSync(join(image, 'collector/src'))).toBe(false);

      const database = await createTestDatabase('fs_image');
      const port = await freePort();
      const grpc = await freePort();
      const api = await freePort();
      let collector: Running | undefined;
      let queryApi: Running | undefined;
      try {
        collector = await startCompiled('collector/dist/main.js', 'collector listening', { DATABASE_URL: database.url, FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1', FLOWSCOPE_COLLECTOR_PORT: String(port), FLOWSCOPE_COLLECTOR_GRPC_PORT: String(grpc) }, image);
        queryApi = await startCompiled('query-api/dist/main.js', 'query-api listening', { DATABASE_URL: database.url, FLOWSCOPE_QUERY_HOST: '127.0.0.1', FLOWSCOPE_QUERY_PORT: String(api), FLOWSCOPE_ADMIN_TOKEN: TOKEN }, image);
        // the images' HEALTHCHECK command, from the image folder
        for (const [variable, p] of [['FLOWSCOPE_COLLECTOR_PORT', port], ['FLOWSCOPE_QUERY_PORT', api]] as const) {
          await run(process.execPath, ['deploy/healthcheck.mjs', variable, String(p)], { cwd: image, env: productionEnv({}) });
        }
        const ui = await fetch(`http://127.0.0.1:${api}/workflows`);
        expect(ui.status).toBe(200);
        expect(await ui.text()).toContain('<div id="app"');
      } finally {
        await stop(collector);
        await stop(queryApi);
        await database.drop();
      }
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  }, 300_000);
});
