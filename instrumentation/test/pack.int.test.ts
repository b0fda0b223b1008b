/**
 * The package as a service owner gets it: `npm pack` (which builds dist/ with tsc), installed
 * into a plain npm project outside the workspace (OpenTelemetry and Express from the registry),
 * type-checked as a TypeScript consumer, and run: an Express app with the one-line middleware
 * calls a downstream endpoint with fetch, then receives SIGTERM; `shutdownOnSignals` flushes the
 * spans to a real flowscope collector (embedded PostgreSQL) before the signal ends the process.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '@flowscope/common';
import { buildCollector, collectorConfigShape } from '@flowscope/collector';
import type { Collector } from '@flowscope/collector';
import { openTestDatabase } from '@flowscope/storage/testing';
import type { Database } from '@flowscope/storage';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

let db: Database;
let disposeDb: () => Promise<void>;
let collector: Collector;
let endpoint: string;
let dir: string;

beforeAll(async () => {
  const t = await openTestDatabase('pglite');
  db = t.db;
  disposeDb = () => t.dispose();
  collector = buildCollector({ db, config: parseConfig(collectorConfigShape, { DEBUGGING_TRACE_SAMPLING_RATE: '1' }), logger: pino({ level: 'silent' }) });
  await collector.app.listen({ host: '127.0.0.1', port: 0 });
  endpoint = `http://127.0.0.1:${(collector.app.server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'flowscope-pack-'));
});

afterAll(async () => {
  await collector?.close();
  await disposeDb?.();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const APP = `
import express from 'express';
import { initFlowscope } from '@flowscope/instrumentation';

const flowscope = initFlowscope({ serviceName: 'packed-shop', layer: 'api', shutdownOnSignals: true });
const app = express();
app.use(flowscope.express({ routes: { 'POST /checkout': 'checkout' } }));
app.use(express.json());
app.post('/pay', (req, res) => { res.json({ paid: true }); });
app.post('/checkout', async (req, res) => {
  const r = await fetch('http://127.0.0.1:' + server.address().port + '/pay', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  res.json(await r.json());
});
const server = app.listen(0, '127.0.0.1', async () => {
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/checkout', { method: 'POST', headers: { 'content-type': 'application/json', 'x-correlation-id': 'packed-order-1' }, body: '{"items":[1]}' });
  process.stdout.write(JSON.stringify({ status: res.status, correlationId: res.headers.get('x-correlation-id'), body: await res.json() }) + '\\n');
  // The server stays open: only the signal (after the flush) ends the process.
  process.kill(process.pid, 'SIGTERM');
});
`;

const CONSUMER_TS = `
import { initFlowscope, type FlowscopeHandle, type MiddlewareOptions } from '@flowscope/instrumentation';
const options: MiddlewareOptions = { routes: { 'POST /checkout': 'checkout' } };
const handle: FlowscopeHandle = initFlowscope({ serviceName: 'typed', layer: 'api' });
const middleware = handle.express(options);
const id: string = handle.withWorkflow('login', undefined, (wf) => wf.id);
void middleware; void id;
`;

describe('npm pack → install in a plain npm project → run', () => {
  it('builds, installs, type-checks and sends a workflow that the collector stores', async () => {
    await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: packageDir, timeout: 120_000 });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
    expect(tarball).toMatch(/^flowscope-instrumentation-.*\.tgz$/);
    const listing = await run('tar', ['-tzf', join(dir, tarball!)]);
    expect(listing.stdout).toContain('package/dist/index.js');
    expect(listing.stdout).toContain('package/dist/index.d.ts');
    expect(listing.stdout).not.toContain('package/src/');

    const project = join(dir, 'app');
    await run('mkdir', ['-p', project]);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'plain-app', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', join(dir, tarball!), 'express@5', '@types/node@20'], { cwd: project, timeout: 240_000 });

    await writeFile(join(project, 'consumer.ts'), CONSUMER_TS);
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] }),
    );
    const typecheck = await run(process.execPath, [tsc, '-p', project], { cwd: project }).catch((e: { stdout?: string }) => ({ stdout: `tsc failed: ${e.stdout ?? String(e)}` }));
    expect(typecheck.stdout).toBe('');

    await writeFile(join(project, 'app.mjs'), APP);
    const child = spawn(process.execPath, ['app.mjs'], {
      cwd: project,
      env: { PATH: process.env.PATH, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    expect(stderr).toBe('');
    // The signal still ends the process, after the flush.
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(JSON.parse(stdout)).toEqual({ status: 200, correlationId: 'packed-order-1', body: { paid: true } });

    const rows = await db.query<{ component: string; layer: string; workflow_type: string; kind: number }>(
      "SELECT component, layer, workflow_type, kind FROM trace_steps WHERE workflow_id = 'packed-order-1' ORDER BY start_time, kind",
    );
    // The script's own fetch (client), the server span of /checkout, its fetch to /pay (client),
    // the server span of /pay: one trace, one workflow.
    expect(rows).toHaveLength(4);
    for (const r of rows) expect(r).toMatchObject({ component: 'packed-shop', layer: 'api', workflow_type: 'checkout' });
    expect(rows.map((r) => Number(r.kind)).sort()).toEqual([2, 2, 3, 3]); // SERVER, SERVER, CLIENT, CLIENT
    const sessions = await db.query<{ workflow_type: string; span_count: number }>(
      "SELECT workflow_type, span_count FROM workflow_sessions WHERE workflow_id = 'packed-order-1'",
    );
    expect(sessions).toEqual([{ workflow_type: 'checkout', span_count: 4 }]);
  }, 300_000);
});
