/**
 * The README's demo quick start, run as written: the `start` command (the all-in-one, here on
 * PostgreSQL and free ports given through the environment) and `demo --once` (the shop's
 * inventory and orders API as real processes, on real PostgreSQL and Redis). Every workflow of
 * the round is stored: its spans share one workflow id (the correlation id the orders API
 * answered with) and type, carry the right layers, and form one tree across the services; the
 * REST API serves it. Then a faulty round (`--fault error@inventory`) stores the error, and with
 * `demo` running, a checkout from the storefront page in Chromium is one tree from the browser's
 * fetch span through the orders API to the inventory's queries.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@flowscope/common/testing';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN_URL = process.env.FLOWSCOPE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.FLOWSCOPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN = 'demo-test-admin-token-0123456789abcdef';
const suffix = `${process.pid}_${Date.now()}`;
const FLOWSCOPE_DB = `fs_demo_${suffix}`;
const SHOP_DB = `shop_demo_${suffix}`;

/** The commands of the README's "Try it with the demo shop" block, in order. */
function readmeCommands(): string[] {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  const section = readme.slice(readme.indexOf('### Try it with the demo shop'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
}

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

let admin: postgres.Sql;
let db: postgres.Sql;
let flowscope: ChildProcess | undefined;
let output = '';
let ports: { otlp: number; grpc: number; api: number; shop: number };
let commands: string[];

function run(command: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => resolve({ code, out }));
  });
}

const shopEnv = (): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${ports.otlp}`,
  FLOWSCOPE_UI_URL: `http://127.0.0.1:${ports.api}`,
  SHOP_PORT: String(ports.shop),
  SHOP_DATABASE_URL: dbUrl(SHOP_DB),
  SHOP_REDIS_URL: REDIS_URL,
  SHOP_REDIS_PREFIX: `shop-test-${suffix}:`,
  SHOP_SLOW_MS: '300',
});

interface Result {
  outcomes: Array<{ workflow: string; status: number; correlationId: string | null; error?: string }>;
  flushed: boolean;
}

function result(out: string): Result {
  const line = out.split('\n').find((l) => l.startsWith('demo-result '));
  if (!line) throw new Error(`no demo-result line in:\n${out}`);
  return JSON.parse(line.slice('demo-result '.length)) as Result;
}

beforeAll(async () => {
  commands = readmeCommands();
  admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`CREATE DATABASE ${FLOWSCOPE_DB}`);
  await admin.unsafe(`CREATE DATABASE ${SHOP_DB}`);
  db = postgres(dbUrl(FLOWSCOPE_DB), { max: 2, onnotice: () => undefined });
  ports = { otlp: await freePort(), grpc: await freePort(), api: await freePort(), shop: await freePort() };

  const start = commands.find((c) => c.includes(' start'));
  if (!start) throw new Error(`the README's demo block has no start command: ${JSON.stringify(commands)}`);
  flowscope = spawn('bash', ['-c', start], {
    cwd: ROOT,
    detached: true,
    env: {
      ...process.env,
      DATABASE_URL: dbUrl(FLOWSCOPE_DB),
      FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
      FLOWSCOPE_COLLECTOR_PORT: String(ports.otlp),
      FLOWSCOPE_COLLECTOR_GRPC_PORT: String(ports.grpc),
      FLOWSCOPE_QUERY_HOST: '127.0.0.1',
      FLOWSCOPE_QUERY_PORT: String(ports.api),
      FLOWSCOPE_ADMIN_TOKEN: TOKEN,
      FLOWSCOPE_CORS_ORIGINS: `http://127.0.0.1:${ports.shop}`,
      FLOWSCOPE_ALERTING_METRICS_PORT: '0',
      REDIS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  flowscope.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  flowscope.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (let i = 0; i < 2400 && !output.includes('flowscope is up'); i++) {
    if (flowscope.exitCode !== null) throw new Error(`flowscope exited:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!output.includes('flowscope is up')) throw new Error(`flowscope did not start:\n${output.slice(-3000)}`);
}, 300_000);

afterAll(async () => {
  if (flowscope?.pid && flowscope.exitCode === null) {
    const exited = new Promise((r) => flowscope!.once('exit', r));
    process.kill(-flowscope.pid, 'SIGTERM');
    await exited;
  }
  await db?.end();
  if (admin) {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${FLOWSCOPE_DB} WITH (FORCE)`);
    await admin.unsafe(`DROP DATABASE IF EXISTS ${SHOP_DB} WITH (FORCE)`);
    await admin.end();
  }
}, 60_000);

interface Step {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  component: string;
  layer: string;
  workflow_type: string;
  is_error: boolean;
}

describe('the demo shop against the real stack (README quick start)', () => {
  it('the README block is install, start, demo --once', () => {
    expect(commands).toEqual(['npx -y pnpm@10.34.8 install --frozen-lockfile', 'DEBUGGING_TRACE_SAMPLING_RATE=1 npx -y pnpm@10.34.8 start', 'npx -y pnpm@10.34.8 demo --once']);
  });

  it('demo --once runs every workflow once, exits 0, and every workflow is stored as one tree across services', async () => {
    const once = commands.find((c) => c.endsWith('demo --once'))!;
    const { code, out } = await run(once, shopEnv());
    expect(code, out).toBe(0);
    expect(out).toContain(`demo: look at http://127.0.0.1:${ports.api}/workflows`);
    const r = result(out);
    expect(r.flushed).toBe(true);
    expect(r.outcomes.map((o) => [o.workflow, o.status])).toEqual([
      ['login', 200],
      ['search', 200],
      ['add_to_cart', 200],
      ['checkout', 200],
    ]);

    for (const o of r.outcomes) {
      expect(o.correlationId).toMatch(/^[0-9a-f-]{36}$/);
      // Acknowledged before the demo exited: the rows are there now.
      const steps = await db<Step[]>`SELECT trace_id, span_id, parent_span_id, name, component, layer, workflow_type, is_error FROM trace_steps WHERE workflow_id = ${o.correlationId!}`;
      expect(new Set(steps.map((s) => s.workflow_type)), o.workflow).toEqual(new Set([o.workflow]));
      expect(steps.every((s) => !s.is_error), JSON.stringify(steps)).toBe(true);
      // One tree: one trace, one root, every other span's parent is in the workflow.
      expect(new Set(steps.map((s) => s.trace_id)).size).toBe(1);
      const ids = new Set(steps.map((s) => s.span_id));
      expect(steps.filter((s) => s.parent_span_id === null || !ids.has(s.parent_span_id))).toHaveLength(1);
      const root = steps.find((s) => s.parent_span_id === null)!;
      expect(root).toMatchObject({ component: 'orders-api', layer: 'api' });
    }

    // The checkout crosses the services: orders API (api), cart (cache: Redis), inventory (service, its PostgreSQL queries: database).
    const checkout = r.outcomes.find((o) => o.workflow === 'checkout')!;
    const steps = await db<Step[]>`SELECT trace_id, span_id, parent_span_id, name, component, layer, workflow_type, is_error FROM trace_steps WHERE workflow_id = ${checkout.correlationId!}`;
    const layersBy = (component: string): string[] => [...new Set(steps.filter((s) => s.component === component).map((s) => s.layer))].sort();
    expect(layersBy('orders-api')).toEqual(['api', 'cache', 'service']);
    expect(layersBy('inventory')).toEqual(['database', 'service']);
    const inventoryServer = steps.find((s) => s.component === 'inventory' && s.layer === 'service')!;
    const parent = steps.find((s) => s.span_id === inventoryServer.parent_span_id)!;
    expect(parent.component).toBe('orders-api');

    // The REST API serves the same workflow.
    const res = await fetch(`http://127.0.0.1:${ports.api}/api/v1/debugging/workflows/${checkout.correlationId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('"checkout"');
  }, 240_000);

  it('a fault chosen on the command line shows as errors in the component it names', async () => {
    const once = commands.find((c) => c.endsWith('demo --once'))!;
    const { code, out } = await run(`${once} --fault error@inventory`, shopEnv());
    expect(code, out).toBe(0);
    expect(out).toContain('demo: faults error@inventory at rate 1');
    const r = result(out);
    // login needs no inventory; search, add_to_cart and checkout fail through it.
    expect(r.outcomes.map((o) => [o.workflow, o.status])).toEqual([
      ['login', 200],
      ['search', 502],
      ['add_to_cart', 502],
      ['checkout', 400],
    ]);
    const search = r.outcomes.find((o) => o.workflow === 'search')!;
    const errors = await db<{ component: string; message: string }[]>`SELECT component, coalesce(status_message, '') || events::text AS message FROM trace_steps WHERE workflow_id = ${search.correlationId!} AND is_error`;
    expect(errors.map((e) => e.component)).toContain('inventory');
    expect(errors.some((e) => e.message.includes('injected fault'))).toBe(true);
  }, 240_000);

  it('with nothing but Node.js (no PostgreSQL or Redis URL) the shop runs on PGlite and an in-process cart', async () => {
    const once = commands.find((c) => c.endsWith('demo --once'))!;
    const env = shopEnv();
    env.SHOP_DATABASE_URL = '';
    env.SHOP_REDIS_URL = '';
    const { code, out } = await run(once, env);
    expect(code, out).toBe(0);
    expect(out).toContain('inventory: products in embedded PGlite');
    expect(out).toContain('orders-api: no payment service (SHOP_PAYMENT_URL unset): the orders API answers payments itself');
    const r = result(out);
    expect(r.outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200]);
    const checkout = r.outcomes.find((o) => o.workflow === 'checkout')!;
    const layers = await db<{ layer: string }[]>`SELECT DISTINCT layer FROM trace_steps WHERE workflow_id = ${checkout.correlationId!} ORDER BY layer`;
    expect(layers.map((l) => l.layer)).toEqual(['api', 'cache', 'database', 'service']);
  }, 240_000);

  it('says how to start flowscope when its collector does not answer', async () => {
    const once = commands.find((c) => c.endsWith('demo --once'))!;
    const closed = await freePort();
    const { code, out } = await run(once, { ...shopEnv(), OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}` });
    expect(code).toBe(2);
    expect(out).toContain(`flowscope's collector does not answer at http://127.0.0.1:${closed}`);
    expect(out).toContain('start it first (npx pnpm@10.34.8 start) or set OTEL_EXPORTER_OTLP_ENDPOINT');
  }, 120_000);

  it('refuses a bad fault on the command line with a clear message', async () => {
    const once = commands.find((c) => c.endsWith('demo --once'))!;
    const { code, out } = await run(`${once} --fault melt@inventory`, shopEnv());
    expect(code).toBe(2);
    expect(out).toContain('unknown fault kind "melt": expected one of slow-db, error, timeout');
  }, 120_000);

  it('with `demo` running, a checkout from the storefront page in Chromium is one workflow from the browser to the database', async () => {
    const demoCmd = commands.find((c) => c.endsWith('demo --once'))!.replace(/ --once$/, '');
    const demo = spawn('bash', ['-c', `${demoCmd} --rate 1`], { cwd: ROOT, detached: true, env: { ...process.env, ...shopEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const profile = await mkdtemp(join(tmpdir(), 'flowscope-shop-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.FLOWSCOPE_TEST_CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      for (let i = 0; i < 1200 && !out.includes('demo: storefront'); i++) {
        if (demo.exitCode !== null) throw new Error(`demo exited:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toContain(`demo: storefront http://127.0.0.1:${ports.shop}/`);
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      await page.goto(`http://127.0.0.1:${ports.shop}/`);
      await page.waitForFunction(() => (globalThis as unknown as { shop?: unknown }).shop !== undefined);
      type Outcome = { workflow: string; workflowId: string; status: number; correlationId: string | null };
      const outcomes = await page.evaluate(async () => {
        const shop = (globalThis as unknown as { shop: Record<string, () => Promise<Outcome>> }).shop;
        return [await shop.login!(), await shop.addToCart!(), await shop.checkout!()];
      });
      expect(outcomes.map((o) => [o.workflow, o.status])).toEqual([
        ['login', 200],
        ['add_to_cart', 200],
        ['checkout', 200],
      ]);
      const checkout = outcomes[2]!;
      // The correlation id the orders API answered with is the browser's workflow id.
      expect(checkout.correlationId).toBe(checkout.workflowId);

      const want = (steps: Step[]): boolean => ['storefront', 'orders-api', 'inventory'].every((c) => steps.some((s) => s.component === c));
      let steps: Step[] = [];
      for (let i = 0; i < 100 && !want(steps); i++) {
        await page.evaluate(() => (globalThis as unknown as { shop: { flush(): Promise<void> } }).shop.flush());
        await new Promise((r) => setTimeout(r, 200));
        steps = await db<Step[]>`SELECT trace_id, span_id, parent_span_id, name, component, layer, workflow_type, is_error FROM trace_steps WHERE workflow_id = ${checkout.workflowId}`;
      }
      expect(problems).toEqual([]);
      expect(new Set(steps.map((s) => s.workflow_type))).toEqual(new Set(['checkout']));
      expect(new Set(steps.map((s) => s.trace_id)).size).toBe(1);
      const root = steps.filter((s) => s.parent_span_id === null);
      expect(root).toHaveLength(1);
      expect(root[0]).toMatchObject({ component: 'storefront', layer: 'frontend' });
      const ids = new Set(steps.map((s) => s.span_id));
      expect(steps.filter((s) => s.parent_span_id !== null && !ids.has(s.parent_span_id))).toEqual([]);
      expect([...new Set(steps.map((s) => s.layer))].sort()).toEqual(['api', 'cache', 'database', 'frontend', 'service']);
      const server = steps.find((s) => s.component === 'orders-api' && s.parent_span_id === root[0]!.span_id);
      expect(server?.layer).toBe('api');
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
      const exited = new Promise<number | null>((r) => (demo.exitCode !== null ? r(demo.exitCode) : demo.once('exit', (code) => r(code))));
      if (demo.pid && demo.exitCode === null) process.kill(-demo.pid, 'SIGINT');
      await exited;
    }
    // Ctrl-C: the services flush and the demo ends.
    expect(demo.exitCode === 0 || demo.signalCode === 'SIGINT', out.slice(-2000)).toBe(true);
  }, 300_000);
});
