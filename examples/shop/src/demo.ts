/**
 * `pnpm demo`: starts the shop (inventory, orders API + storefront page) against a running
 * flowscope (OTEL_EXPORTER_OTLP_ENDPOINT, default http://localhost:4318), drives traffic and
 * prints where to look. `pnpm demo --once` runs each workflow once, stops the services (each
 * flushes its spans and waits for the collector's acknowledgement) and exits 0.
 *
 *   --once                 one round of login, search, add_to_cart, checkout, then exit
 *   --rate N               workflows per second (default 2)
 *   --fault KIND[@COMP]    slow-db | error | timeout, in inventory | orders | cart | payment | random (repeatable)
 *   --fault-rate R         share of requests a fault hits, 0..1 (default 0.3; 1 with --once)
 *
 * PostgreSQL (SHOP_DATABASE_URL) and Redis (SHOP_REDIS_URL) are used when given; otherwise the
 * inventory runs on embedded PostgreSQL (PGlite) and the cart is kept in process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Customer, WORKFLOWS } from './driver.ts';
import type { Outcome } from './driver.ts';
import { formatFaults, parseFault, sleep } from './faults.ts';
import type { Fault } from './faults.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      once: { type: 'boolean', default: false },
      rate: { type: 'string', default: '2' },
      fault: { type: 'string', multiple: true, default: [] },
      'fault-rate': { type: 'string' },
    },
    allowPositionals: false,
  }).values;
} catch (error) {
  fail(`${(error as Error).message} (options: --once, --rate N, --fault KIND[@COMPONENT], --fault-rate R)`);
}
const rate = Number(args.rate);
if (!Number.isFinite(rate) || rate <= 0 || rate > 100) fail(`--rate must be a number in (0, 100] (got ${args.rate})`);
const faultRate = Number(args['fault-rate'] ?? (args.once ? '1' : '0.3'));
if (!Number.isFinite(faultRate) || faultRate < 0 || faultRate > 1) fail(`--fault-rate must be between 0 and 1 (got ${args['fault-rate']})`);
let faults: Fault[] = [];
try {
  faults = (args.fault ?? []).map((f) => parseFault(f));
} catch (error) {
  fail((error as Error).message);
}

const endpoint = (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318').replace(/\/+$/, '');
const uiUrl = (process.env.FLOWSCOPE_UI_URL ?? 'http://localhost:8000').replace(/\/+$/, '');
try {
  const health = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(5000) });
  if (!health.ok) throw new Error(`answered ${health.status}`);
} catch (error) {
  fail(`flowscope's collector does not answer at ${endpoint} (${(error as Error).message}): start it first (npx pnpm@10.34.8 start) or set OTEL_EXPORTER_OTLP_ENDPOINT`);
}

const children: ChildProcess[] = [];

/** Starts one service and resolves with its port once it prints `ready <port>`. */
function service(name: string, env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', `${HERE}${name}.ts`], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, SHOP_FAULTS: formatFaults(faults), SHOP_FAULT_RATE: String(faultRate), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const line of d.toString().split('\n')) if (line.startsWith(`${name}:`) || line.startsWith('orders-api:')) process.stdout.write(`${line}\n`);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready:\n${stderr.slice(-2000)}`)));
  });
}

/** SIGTERM to every service; each flushes its spans (acknowledged by the collector) and exits 0. */
async function stopAll(): Promise<boolean> {
  const codes = await Promise.all(
    children.map(
      (child) =>
        new Promise<number | null>((resolve) => {
          if (child.exitCode !== null) return resolve(child.exitCode);
          child.once('exit', (code) => resolve(code));
          child.kill('SIGTERM');
        }),
    ),
  );
  return codes.every((c) => c === 0);
}

let ordersPort: number;
try {
  const inventoryPort = await service('inventory', { PORT: process.env.SHOP_INVENTORY_PORT ?? '0' });
  ordersPort = await service('orders', { PORT: process.env.SHOP_PORT ?? '0', SHOP_INVENTORY_URL: `http://127.0.0.1:${inventoryPort}` });
} catch (error) {
  await stopAll();
  fail((error as Error).message);
}
const shopUrl = `http://127.0.0.1:${ordersPort}`;
process.stdout.write(
  [
    `demo: storefront ${shopUrl}/ (its page exports to ${endpoint}: list http://127.0.0.1:${ordersPort} in FLOWSCOPE_CORS_ORIGINS to see browser spans)`,
    `demo: faults ${faults.length ? `${formatFaults(faults)} at rate ${faultRate}` : 'none'}`,
    `demo: look at ${uiUrl}/workflows (workflow types ${WORKFLOWS.join(', ')}), ${uiUrl}/errors and ${uiUrl}/alerts`,
    '',
  ].join('\n'),
);

const summarise = (outcomes: Outcome[]): string => outcomes.map((o) => `${o.workflow} ${o.status}${o.error ? ` (${o.error})` : ''}`).join(', ');

if (args.once) {
  const outcomes = await new Customer(shopUrl).round();
  const flushed = await stopAll();
  process.stdout.write(`demo: ${summarise(outcomes)}\n`);
  process.stdout.write(`demo-result ${JSON.stringify({ outcomes, flushed })}\n`);
  process.exit(flushed ? 0 : 1);
}

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void stopAll().then((ok) => process.exit(ok ? 0 : 1));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
let sent = 0;
while (!stopping) {
  const customer = new Customer(shopUrl);
  for (const w of WORKFLOWS) {
    if (stopping) break;
    const o = await customer.run(w);
    if (++sent % 20 === 0 || o.status >= 500 || o.status === 0) process.stdout.write(`demo: ${sent} workflows sent; last ${o.workflow} ${o.status}${o.error ? ` (${o.error})` : ''}\n`);
    await sleep(1000 / rate);
  }
}
