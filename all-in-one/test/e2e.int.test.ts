import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sendCheckout } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'e2e-admin-token-0123456789abcdef';


/**
 * The product as a first-time user runs it: `pnpm start` with no database and no Redis
 * configured (embedded PGlite, in-process scheduler). Real SDK in; REST and Jaeger API out.
 */
describe('all-in-one on embedded storage', () => {
  let child: ChildProcess;
  let dataDir: string;
  let otlp: number;
  let api: number;
  let output = '';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flowscope-e2e-'));
    [otlp, api] = [await freePort(), await freePort()];
    const grpc = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env,
      FLOWSCOPE_DATA_DIR: dataDir,
      FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
      FLOWSCOPE_COLLECTOR_PORT: String(otlp),
      FLOWSCOPE_COLLECTOR_GRPC_PORT: String(grpc),
      FLOWSCOPE_QUERY_HOST: '127.0.0.1',
      FLOWSCOPE_QUERY_PORT: String(api),
      FLOWSCOPE_ADMIN_TOKEN: TOKEN,
      DEBUGGING_TRACE_SAMPLING_RATE: '1',
    };
    delete env.DATABASE_URL;
    delete env.REDIS_URL;
    child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', 'all-in-one/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    for (let i = 0; i < 600 && !output.includes('flowscope is up'); i++) {
      if (child.exitCode !== null) throw new Error(`all-in-one exited:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toContain('flowscope is up');
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${api}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers health and readiness on both ports, and refuses the API without a token', async () => {
    for (const port of [otlp, api]) {
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    }
    expect((await fetch(`http://127.0.0.1:${api}/api/v1/debugging/workflows`)).status).toBe(401);
    expect(await (await fetch(`http://127.0.0.1:${api}/metrics`)).text()).toMatch(/flowscope_alerting_evaluations_total/);
  });

  it('a workflow exported with the OpenTelemetry SDK comes back through REST and the Jaeger API', async () => {
    const { traceId, rootSpanId } = await sendCheckout(`http://127.0.0.1:${otlp}/v1/traces`, 'e2e-order-1');

    const workflow = await get('/api/v1/debugging/workflows/e2e-order-1');
    expect(workflow.status).toBe(200);
    expect(JSON.stringify(workflow.body)).toContain('"workflow_type":"checkout"');
    expect(JSON.stringify(workflow.body)).toContain('"status":"failed"');

    const errors = await get('/api/v1/debugging/errors?layer=database');
    expect(JSON.stringify(errors.body)).toContain('deadlock detected');

    const jaeger = await get(`/jaeger/api/traces/${traceId}`);
    expect(jaeger.status).toBe(200);
    const data = jaeger.body.data as { traceID: string; spans: { spanID: string; operationName: string; references: { refType: string; spanID: string }[] }[] }[];
    expect(data[0]!.traceID).toBe(traceId);
    const names = data[0]!.spans.map((s) => s.operationName).sort();
    expect(names).toEqual(['INSERT orders', 'POST /checkout']);
    const child = data[0]!.spans.find((s) => s.operationName === 'INSERT orders')!;
    expect(child.references).toEqual([expect.objectContaining({ refType: 'CHILD_OF', spanID: rootSpanId })]);
    const services = await get('/jaeger/api/services');
    expect(services.body.data).toContain('shop-api');
  });
});
