/**
 * `pnpm soak`: runs flowscope's processes for real (the collector and the alerting worker as
 * processes, on the real PostgreSQL and Redis behind relays that the soak can cut, a real SMTP
 * server in this process), sends acknowledged traffic through injected faults, then throws
 * seeded hostile inputs at the collector, and prints one table: spans sent and acknowledged,
 * faults injected and survived, bad inputs by kind, 5xx, crashes, acknowledged spans lost,
 * memory after each kind against the idle level, peak memory per process. Exits 1 when anything
 * acknowledged was lost, a 5xx or a crash was seen, a fault was not survived, or the in-flight
 * budget or the collector's memory did not come back to idle after a kind of bad input.
 *
 *   pnpm soak                  full size (≥ 10,000 bad inputs, faults of tens of seconds, SMTP down 2.5 min)
 *   pnpm soak --small          the same suite at small sizes (the test command runs this)
 *   --seed=N  --out=FILE (JSON results)  --silent (no table)
 *   --<size>=N or SOAK_<SIZE>=N overrides one size (flag first), e.g. --fault-ms=500,
 *   SOAK_RSS_TOLERANCE_MB=128; the sizes are the fields of `SoakSizes` below.
 *
 * Waits are conditions, not fixed sleeps: an outage is held for `faultMs` only after the
 * collector has been seen to notice it (not ready, or a write waiting on the lock), SMTP comes
 * back `smtpDownMs` after a delivery has been seen to fail, and every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import postgres from 'postgres';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BUCKET_COUNT, bucketIndex, emptyBuckets, writeSnapshotDeltas } from '@flowscope/storage';
import { benchDatabase } from '../lib/db.ts';
import { freePort, peakRssMb, REPO_ROOT } from '../lib/processes.ts';
import { makeBatch, prng, serialize } from '../lib/workload.ts';
import { generateInputs, type BadInput } from './inputs.ts';
import { GrpcSender, postOtlp, Relay } from './net.ts';

const MiB = 1024 * 1024;

/** Every size and wait of the suite (override one with --kebab-name=N or SOAK_SNAKE_NAME=N). */
export interface SoakSizes {
  /** traffic before the first fault, after the first acknowledged batch (ms) */
  baselineMs: number;
  /** how long an outage is held once the collector has been seen to notice it (ms) */
  faultMs: number;
  /** how long SMTP stays down once a delivery has been seen to fail (ms) */
  smtpDownMs: number;
  /** how long to watch, after every alert email went out, for one delivered twice (ms) */
  duplicateWatchMs: number;
  /** hostile inputs in all (spread over every kind, at least one each) */
  badInputs: number;
  /** concurrent senders of valid traffic / of hostile inputs */
  concurrency: number;
  badConcurrency: number;
  spansPerRequest: number;
  /** the collector's FLOWSCOPE_MAX_BODY_BYTES (bombs and oversized bodies are sized from it) */
  maxBodyBytes: number;
  /** memory back to idle: the collector's RSS at most the idle RSS plus this (MiB) after each kind */
  rssToleranceMb: number;
  /** how long to wait after a kind for in-flight bytes 0 and RSS within the tolerance (ms) */
  settleMs: number;
}
export const SIZES: Record<'full' | 'small', SoakSizes> = {
  full: { baselineMs: 10_000, faultMs: 20_000, smtpDownMs: 150_000, duplicateWatchMs: 5000, badInputs: 12_000, concurrency: 4, badConcurrency: 8, spansPerRequest: 20, maxBodyBytes: 4 * MiB, rssToleranceMb: 96, settleMs: 60_000 },
  small: { baselineMs: 0, faultMs: 300, smtpDownMs: 0, duplicateWatchMs: 1500, badInputs: 68, concurrency: 2, badConcurrency: 4, spansPerRequest: 10, maxBodyBytes: 1 * MiB, rssToleranceMb: 64, settleMs: 30_000 },
};

/** The sizes of a mode with overrides from flags (`--fault-ms=500`) or the environment (`SOAK_FAULT_MS=500`). */
export function soakSizes(mode: 'full' | 'small', argv: readonly string[], env: NodeJS.ProcessEnv): SoakSizes {
  const sizes = { ...SIZES[mode] };
  for (const key of Object.keys(sizes) as (keyof SoakSizes)[]) {
    const kebab = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const raw = argv.find((a) => a.startsWith(`--${kebab}=`))?.slice(kebab.length + 3) ?? env[`SOAK_${kebab.replace(/-/g, '_').toUpperCase()}`];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`soak: ${key} must be a number ≥ 0, got ${JSON.stringify(raw)}`);
    sizes[key] = n;
  }
  return sizes;
}

export interface SoakResult {
  mode: 'full' | 'small';
  seed: number;
  sizes: SoakSizes;
  spans: { sent: number; acknowledged: number; lost: number; refusedRetried: Record<string, number> };
  faults: { name: string; survived: boolean; detail: string }[];
  inputs: {
    kind: string;
    tried: number;
    ok2xx: number;
    refused4xx: number;
    fiveXX: number;
    dropped: number;
    /** the collector's flowscope_inflight_bytes once the kind was done (0 when nothing is held) */
    inflightAfter: number;
    /** the collector's RSS once the kind was done and memory settled (MiB) */
    rssMb: number;
    /** in-flight bytes 0 and RSS within idle + rssToleranceMb */
    memoryBackToIdle: boolean;
    ingestAfter: boolean;
  }[];
  badInputsTried: number;
  fiveXX: number;
  crashes: number;
  emails: { outboxRows: number; sentRows: number; delivered: number; duplicates: number };
  peakMemoryMb: Record<string, number>;
  /** the collector's RSS on a healthy stack after the faults, before any bad input (MiB) */
  idleRssMb: number;
  ok: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve(fn()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`soak: timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A flowscope process (collector or alerting worker) that can be killed and started again on the same ports. */
class Proc {
  child: ChildProcess | undefined;
  crashes = 0;
  peakMb = 0;
  private expectingExit = false;
  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: Record<string, string | undefined>,
    private readonly logFile: string,
  ) {}

  start(): void {
    const out = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--conditions=flowscope-source', '--import', 'tsx', join(REPO_ROOT, this.script)], {
      cwd: REPO_ROOT,
      env: this.env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.expectingExit = false;
    child.once('exit', (code, signal) => {
      if (!this.expectingExit) {
        this.crashes += 1;
        process.stderr.write(`soak: ${this.name} exited unexpectedly (${code ?? signal}); see ${this.logFile}; restarting it\n`);
        setTimeout(() => this.start(), 500); // counted as a crash; the suite goes on
      }
    });
    this.child = child;
  }

  sampleMemory(): number {
    const pid = this.child?.pid;
    if (pid === undefined || this.child?.exitCode !== null) return NaN;
    const mb = peakRssMb(pid);
    if (Number.isFinite(mb)) this.peakMb = Math.max(this.peakMb, mb);
    return mb;
  }

  currentRssMb(): number {
    const pid = this.child?.pid;
    if (pid === undefined) return NaN;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    } catch {
      return NaN;
    }
  }

  alive(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` and waits for the exit; SIGKILL after `graceMs` if it is still running. */
  async kill(signal: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    const c = this.child;
    if (!c || !this.alive()) return;
    this.sampleMemory();
    this.expectingExit = true;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort (the soak itself is being stopped). */
  killNow(): void {
    if (this.alive()) {
      this.expectingExit = true;
      this.child!.kill('SIGKILL');
    }
  }
}


/** Valid traffic as exporters send it: each request retried on 429/503/connection errors until acknowledged. */
class Traffic {
  sent = 0;
  acknowledged: string[] = [];
  refused: Record<string, number> = {};
  fiveXX = 0;
  rejected = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private n = 0;
  constructor(
    private readonly httpUrl: string,
    private readonly grpc: GrpcSender,
    private readonly rand: () => number,
    private readonly spansPerRequest: number,
  ) {}

  start(concurrency: number): void {
    this.running = true;
    for (let i = 0; i < concurrency; i++) this.loops.push(this.loop());
  }

  /** Stops sending new batches; batches in flight are retried until acknowledged (bounded). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /** One batch, sent until acknowledged or `deadline`; returns whether it was acknowledged. */
  async sendOne(deadline = Date.now() + 90_000): Promise<boolean> {
    const traces = makeBatch(this.rand, this.spansPerRequest, Date.now());
    const spans = traces.flatMap((t) => t.spans);
    this.sent += spans.length;
    const via = this.n++ % 3;
    const proto = serialize(traces);
    const jsonBody = via === 1 ? Buffer.from(JsonTraceSerializer.serializeRequest(spans)!) : undefined;
    for (;;) {
      let outcome: 'ack' | 'retry' | 'reject';
      let wait = 250;
      try {
        if (via === 2) {
          const r = await this.grpc.export(proto);
          outcome = r.code === 0 ? 'ack' : [8, 14, 4, 1].includes(r.code) ? 'retry' : 'reject';
          if (outcome !== 'ack') this.count(`grpc ${r.code}`);
          if (r.code === 13 || r.code === 2) this.fiveXX += 1;
        } else {
          const r = await postOtlp(`${this.httpUrl}/v1/traces`, jsonBody ?? proto, { 'content-type': jsonBody ? 'application/json' : 'application/x-protobuf' });
          outcome = r.status === 200 ? 'ack' : r.status === 429 || r.status === 503 ? 'retry' : 'reject';
          if (r.status === 200 && /"rejectedSpans"/.test(r.body)) outcome = 'reject';
          if (outcome !== 'ack') this.count(`http ${r.status}`);
          if (r.status >= 500 && r.status !== 503) this.fiveXX += 1;
          if (r.retryAfter !== undefined) wait = Math.min(2000, Math.max(250, r.retryAfter * 1000));
        }
      } catch {
        outcome = 'retry'; // connection refused or reset: the collector is down or restarting
        this.count('connection error');
      }
      if (outcome === 'ack') {
        for (const s of spans) this.acknowledged.push(`${s.spanContext().traceId}:${s.spanContext().spanId}`);
        return true;
      }
      if (outcome === 'reject') {
        this.rejected += spans.length;
        return false;
      }
      if (Date.now() > deadline) return false;
      await sleep(wait);
    }
  }

  private count(key: string): void {
    this.refused[key] = (this.refused[key] ?? 0) + 1;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await this.sendOne();
      await sleep(20);
    }
  }
}

async function inflightBytes(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = /^flowscope_inflight_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

export async function runSoak(mode: 'full' | 'small', seed: number, log: (s: string) => void, sizes: SoakSizes = SIZES[mode]): Promise<SoakResult> {
  const rand = prng(seed);
  const dir = mkdtempSync(join(tmpdir(), 'flowscope-soak-'));
  const database = await benchDatabase('fs_soak', 3);
  const pgUrl = new URL(database.url);
  const pgRelay = new Relay(Number(pgUrl.port || 5432));
  await pgRelay.start();
  const relayedUrl = new URL(database.url);
  relayedUrl.port = String(pgRelay.port);
  const redisTarget = new URL(process.env.FLOWSCOPE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const redisRelay = new Relay(Number(redisTarget.port || 6379));
  await redisRelay.start();

  // SMTP: a real server in this process; every message kept by Message-ID.
  const received = new Map<string, number>();
  let smtp: SMTPServer | undefined;
  const smtpPort = await freePort();
  const startSmtp = async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, cb) {
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString()));
        stream.on('end', () => {
          const id = /^Message-ID:\s*(\S+)/im.exec(text)?.[1] ?? `no-id-${received.size}`;
          received.set(id, (received.get(id) ?? 0) + 1);
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => smtp!.listen(smtpPort, '127.0.0.1', resolve));
  };
  const stopSmtp = () => new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
  await startSmtp();

  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const baseEnv: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: relayedUrl.toString(), FLOWSCOPE_DB_START_TIMEOUT_SECONDS: '600' };
  delete baseEnv.REDIS_URL;
  delete baseEnv.NODE_OPTIONS; // a test runner's loader hooks are not the collector's
  const collector = new Proc(
    'collector',
    'collector/src/main.ts',
    {
      ...baseEnv,
      REDIS_URL: `redis://127.0.0.1:${redisRelay.port}`,
      FLOWSCOPE_REDIS_PREFIX: `fs-soak-${seed}-${process.pid}:`,
      FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
      FLOWSCOPE_COLLECTOR_PORT: String(httpPort),
      FLOWSCOPE_COLLECTOR_GRPC_PORT: String(grpcPort),
      DEBUGGING_TRACE_SAMPLING_RATE: '1',
      FLOWSCOPE_MAX_BODY_BYTES: String(sizes.maxBodyBytes),
      FLOWSCOPE_RETRY_AFTER_SECONDS: '1',
    },
    join(dir, 'collector.log'),
  );
  const alerting = new Proc(
    'alerting worker',
    'alerting/src/main.ts',
    {
      ...baseEnv,
      FLOWSCOPE_ALERTING_METRICS_PORT: '0',
      FLOWSCOPE_ALERT_EVAL_INTERVAL_SECONDS: '0.5',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(smtpPort),
      FLOWSCOPE_ALERT_EMAIL_TO: 'oncall@example.com',
      FLOWSCOPE_EMAIL_BACKOFF_MS: '500',
      FLOWSCOPE_EMAIL_MAX_ATTEMPTS: '12',
    },
    join(dir, 'alerting.log'),
  );
  // Stopped from outside (a test's timeout, Ctrl-C): take the processes down with the soak.
  const onSignal = (signal: NodeJS.Signals) => {
    collector.killNow();
    alerting.killNow();
    process.kill(process.pid, signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const ready = () => fetch(`${httpUrl}/ready`).then((r) => r.ok, () => false);
  const notReady = async () => !(await ready());
  const grpc = new GrpcSender(`127.0.0.1:${grpcPort}`);
  const traffic = new Traffic(httpUrl, grpc, rand, sizes.spansPerRequest);
  const faults: SoakResult['faults'] = [];
  const inputs: SoakResult['inputs'] = [];
  const admin = postgres(process.env.FLOWSCOPE_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', { max: 2, onnotice: () => {} });
  let idleRssMb = NaN;

  try {
    collector.start();
    alerting.start();
    await waitUntil('the collector', ready, 120_000);

    // ---- faults, under traffic -------------------------------------------------------------
    const fault = async (name: string, inject: () => Promise<string>) => {
      log(`fault: ${name}`);
      const before = traffic.acknowledged.length;
      const crashesBefore = collector.crashes + alerting.crashes;
      let detail = '';
      let survived = false;
      try {
        detail = await inject();
        // survived: the collector answers ready again and new traffic is acknowledged
        await waitUntil(`${name}: ready again`, ready, 120_000);
        const mark = traffic.acknowledged.length;
        await waitUntil(`${name}: traffic acknowledged again`, () => traffic.acknowledged.length > mark, 120_000);
        survived = collector.crashes + alerting.crashes === crashesBefore && traffic.acknowledged.length > before;
      } catch (err) {
        detail = `${detail} ${(err as Error).message}`.trim();
      }
      collector.sampleMemory();
      alerting.sampleMemory();
      faults.push({ name, survived, detail });
    };
    traffic.start(sizes.concurrency);
    await waitUntil('the first acknowledged batch', () => traffic.acknowledged.length > 0, 120_000);
    await sleep(sizes.baselineMs);

    await fault('collector kill -9', async () => {
      await collector.kill('SIGKILL');
      await sleep(sizes.faultMs / 3);
      collector.start();
      return `killed, restarted after ${Math.round(sizes.faultMs / 3)} ms`;
    });
    await fault('PostgreSQL restart (connections terminated)', async () => {
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${database.url.split('/').pop()!} AND pid <> pg_backend_pid()`;
      await pgRelay.stop();
      await sleep(sizes.faultMs / 3);
      await pgRelay.start();
      return `backends terminated, relay down ${Math.round(sizes.faultMs / 3)} ms`;
    });
    await fault('PostgreSQL stop', async () => {
      await pgRelay.stop();
      const t0 = Date.now();
      try {
        await waitUntil('the collector to report the database down', notReady, 60_000);
        await sleep(sizes.faultMs);
      } finally {
        await pgRelay.start();
      }
      return `collector not ready, down ${Date.now() - t0} ms`;
    });
    await fault('Redis stop', async () => {
      await redisRelay.stop();
      const t0 = Date.now();
      try {
        await waitUntil('the collector to report Redis down', notReady, 60_000);
        await sleep(sizes.faultMs);
      } finally {
        await redisRelay.start();
      }
      return `collector not ready, down ${Date.now() - t0} ms`;
    });
    await fault('slow database (ACCESS EXCLUSIVE lock on trace_steps held)', async () => {
      const holder = postgres(database.url, { max: 1, onnotice: () => {} });
      let held = 0;
      try {
        await holder.begin(async (tx) => {
          await tx`LOCK TABLE trace_steps IN ACCESS EXCLUSIVE MODE`;
          const t0 = Date.now();
          // held until a write of the collector is seen waiting on it, then faultMs more
          await waitUntil('a write waiting on the lock', async () => (await tx`SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'trace_steps'::regclass LIMIT 1`).length > 0, 60_000);
          await sleep(sizes.faultMs);
          held = Date.now() - t0;
        });
      } finally {
        await holder.end();
      }
      return `a write waited on it, held ${held} ms`;
    });
    await fault('collector kill -9 (second)', async () => {
      await collector.kill('SIGKILL');
      collector.start();
      return 'killed and restarted at once';
    });

    // SMTP down while an alert fires: the email is delivered once after SMTP is back.
    log('fault: SMTP down');
    await stopSmtp();
    const buckets = emptyBuckets();
    for (let i = 0; i < 30; i++) buckets[bucketIndex(400)]! += 1;
    if (buckets.length !== BUCKET_COUNT) throw new Error('bucket count');
    await database.db.transaction((tx) =>
      writeSnapshotDeltas(tx, [
        { bucketStartMs: Math.floor(Date.now() / 60_000) * 60_000, workflowType: 'soak-alert', layer: 'database', component: 'soak-db', metric: 'duration_ms', count: 30, errorCount: 0, sum: 12_000, min: 400, max: 400, buckets },
      ]),
    );
    let smtpDetail = '';
    let allSent = false;
    let failureSeen = false;
    try {
      // down until a delivery has been seen to fail, then smtpDownMs more
      await waitUntil('a failed delivery of an alert email', async () => (await database.db.query('SELECT 1 FROM email_outbox WHERE last_error IS NOT NULL LIMIT 1')).length > 0, 120_000);
      failureSeen = true;
      await sleep(sizes.smtpDownMs);
    } catch (err) {
      smtpDetail = `${(err as Error).message}; `;
    }
    await startSmtp();
    try {
      await waitUntil('every outbox row sent', async () => {
        const rows = await database.db.query<{ status: string }>('SELECT status FROM email_outbox');
        return rows.length > 0 && rows.every((r) => r.status === 'sent');
      }, 300_000);
      allSent = true;
      await sleep(sizes.duplicateWatchMs); // more ticks and sweeps: nothing is sent twice
      const [attempts] = await database.db.query<{ n: number }>('SELECT max(attempts)::int AS n FROM email_outbox');
      smtpDetail += `a delivery failed, down ${sizes.smtpDownMs} ms more, sent on attempt ${attempts?.n ?? '?'}`;
    } catch (err) {
      smtpDetail += (err as Error).message;
    }
    const dupes = [...received.values()].filter((n) => n > 1).length;
    faults.push({ name: 'SMTP down (alert email delivered once after)', survived: failureSeen && allSent && received.size > 0 && dupes === 0 && alerting.crashes === 0, detail: smtpDetail });

    await traffic.stop();

    // ---- hostile inputs, after the faults, on a healthy stack ---------------------------------
    // The idle level: the collector (restarted by the last kill -9) after it has taken traffic.
    for (let i = 0; i < 3; i++) await traffic.sendOne(Date.now() + 30_000);
    await waitUntil('in-flight bytes 0 before the bad inputs', async () => (await inflightBytes(httpUrl)) === 0, sizes.settleMs).catch(() => undefined);
    idleRssMb = collector.currentRssMb();
    const rssLimitMb = idleRssMb + sizes.rssToleranceMb;
    log(`collector idle RSS ${round(idleRssMb)} MB; limit after each kind ${round(rssLimitMb)} MB`);
    const plan = generateInputs(rand, sizes.badInputs, sizes.maxBodyBytes);
    for (const [kind, makers] of plan) {
      log(`bad inputs: ${kind} (${makers.length})`);
      const row: SoakResult['inputs'][number] = { kind, tried: 0, ok2xx: 0, refused4xx: 0, fiveXX: 0, dropped: 0, inflightAfter: NaN, rssMb: NaN, memoryBackToIdle: false, ingestAfter: false };
      let next = 0;
      const worker = async () => {
        while (next < makers.length) {
          const input: BadInput = makers[next++]!();
          row.tried += 1;
          try {
            if (input.transport === 'grpc') {
              const r = await grpc.export(input.body);
              if (r.code === 0) row.ok2xx += 1;
              else if (r.code === 13 || r.code === 2) row.fiveXX += 1;
              else row.refused4xx += 1;
              continue;
            }
            const headers: Record<string, string> = {};
            if (input.contentType !== undefined) headers['content-type'] = input.contentType;
            if (input.contentEncoding !== undefined) headers['content-encoding'] = input.contentEncoding;
            const r = await postOtlp(
              `${httpUrl}/v1/traces`,
              input.body,
              headers,
              input.transport === 'http-slow'
                ? { slowChunks: 8, pauseMs: 40 }
                : input.transport === 'http-abort'
                  ? { abortAfter: Math.floor(input.body.length / 2) }
                  : {},
            );
            if (r.status === 0) row.dropped += 1; // the client went away on purpose
            else if (r.status >= 500) row.fiveXX += 1;
            else if (r.status >= 400) row.refused4xx += 1;
            else row.ok2xx += 1;
          } catch {
            row.dropped += 1; // the server closed the connection (e.g. on a refused body)
          }
        }
      };
      await Promise.all(Array.from({ length: sizes.badConcurrency }, worker));
      collector.sampleMemory();
      // memory back to idle: nothing held in flight and the RSS back within the tolerance
      const settled = async () => (await inflightBytes(httpUrl)) === 0 && collector.currentRssMb() <= rssLimitMb;
      await waitUntil(`${kind}: memory back to idle`, settled, sizes.settleMs).catch(() => undefined);
      row.inflightAfter = await inflightBytes(httpUrl).catch(() => NaN);
      row.rssMb = collector.currentRssMb();
      row.memoryBackToIdle = row.inflightAfter === 0 && row.rssMb <= rssLimitMb;
      // ingest working, process alive
      row.ingestAfter = collector.alive() && (await traffic.sendOne(Date.now() + 30_000));
      inputs.push(row);
    }

    // ---- every acknowledged span is stored ----------------------------------------------------
    const acked = new Set(traffic.acknowledged);
    const traceIds = [...new Set([...acked].map((k) => k.split(':')[0]!))];
    const found = new Set<string>();
    for (let i = 0; i < traceIds.length; i += 5000) {
      const rows = await database.db.query<{ trace_id: string; span_id: string }>('SELECT trace_id, span_id FROM trace_steps WHERE trace_id = ANY($1::text[])', [traceIds.slice(i, i + 5000)]);
      for (const r of rows) found.add(`${r.trace_id}:${r.span_id}`);
    }
    const lost = [...acked].filter((k) => !found.has(k)).length;
    // Alerts go on firing through the bad inputs (the soak-alert snapshot escalates, re-fires): every
    // email queued by now is delivered too before the outbox is counted, and none of them twice.
    await waitUntil('every outbox row sent (end)', async () => {
      const rows = await database.db.query<{ status: string }>('SELECT status FROM email_outbox');
      return rows.every((r) => r.status === 'sent');
    }, 120_000).catch(() => undefined);
    const outboxRows = await database.db.query<{ status: string }>('SELECT status FROM email_outbox');
    const dupesAtEnd = [...received.values()].filter((n) => n > 1).length;
    collector.sampleMemory();
    alerting.sampleMemory();
    const fiveXX = traffic.fiveXX + inputs.reduce((n, r) => n + r.fiveXX, 0);
    const crashes = collector.crashes + alerting.crashes;
    const result: SoakResult = {
      mode,
      seed,
      sizes,
      spans: { sent: traffic.sent, acknowledged: acked.size, lost, refusedRetried: traffic.refused },
      faults,
      inputs,
      badInputsTried: inputs.reduce((n, r) => n + r.tried, 0),
      fiveXX,
      crashes,
      emails: { outboxRows: outboxRows.length, sentRows: outboxRows.filter((r) => r.status === 'sent').length, delivered: received.size, duplicates: dupesAtEnd },
      peakMemoryMb: { collector: round(collector.peakMb), 'alerting worker': round(alerting.peakMb), soak: round(process.memoryUsage().rss / MiB) },
      idleRssMb: round(idleRssMb),
      ok: false,
    };
    result.ok =
      lost === 0 &&
      fiveXX === 0 &&
      crashes === 0 &&
      faults.every((f) => f.survived) &&
      inputs.every((r) => r.ingestAfter && r.memoryBackToIdle) &&
      traffic.rejected === 0;
    return result;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await traffic.stop().catch(() => undefined);
    grpc.close();
    await collector.kill('SIGTERM', 15_000).catch(() => undefined);
    await alerting.kill('SIGTERM', 15_000).catch(() => undefined);
    await stopSmtp();
    await pgRelay.stop().catch(() => undefined);
    await redisRelay.stop().catch(() => undefined);
    await admin.end();
    await database.dispose().catch(() => undefined);
    if (!process.env.SOAK_KEEP_LOGS) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${dir}`);
  }
}

const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : v);

export function formatSoak(r: SoakResult): string {
  const lines: string[] = [];
  const row = (a: string, b: string | number) => lines.push(`${a.padEnd(58)} ${String(b)}`);
  lines.push(`flowscope soak (${r.mode}, seed ${r.seed})`);
  lines.push('-'.repeat(80));
  row('spans sent', r.spans.sent);
  row('spans acknowledged', r.spans.acknowledged);
  row('acknowledged spans lost', r.spans.lost);
  row('refusals retried (by answer)', Object.entries(r.spans.refusedRetried).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none');
  for (const f of r.faults) row(`fault: ${f.name}`, `${f.survived ? 'survived' : 'NOT SURVIVED'} (${f.detail})`);
  row('alert emails: outbox rows / sent / delivered / duplicates', `${r.emails.outboxRows} / ${r.emails.sentRows} / ${r.emails.delivered} / ${r.emails.duplicates}`);
  lines.push('-'.repeat(80));
  lines.push(`${'bad input kind'.padEnd(30)} ${'tried'.padStart(6)} ${'2xx'.padStart(5)} ${'4xx'.padStart(6)} ${'5xx'.padStart(4)} ${'cut'.padStart(5)} ${'inflight'.padStart(8)} ${'rss MB'.padStart(7)} memory ingest`);
  for (const i of r.inputs) {
    lines.push(
      `${i.kind.padEnd(30)} ${String(i.tried).padStart(6)} ${String(i.ok2xx).padStart(5)} ${String(i.refused4xx).padStart(6)} ${String(i.fiveXX).padStart(4)} ${String(i.dropped).padStart(5)} ${String(i.inflightAfter).padStart(8)} ${String(round(i.rssMb)).padStart(7)} ${(i.memoryBackToIdle ? 'idle' : 'HELD').padEnd(6)} ${i.ingestAfter ? 'ok' : 'FAIL'}`,
    );
  }
  lines.push('-'.repeat(80));
  row('bad inputs tried', r.badInputsTried);
  row('5xx answers', r.fiveXX);
  row('crashes', r.crashes);
  row('peak memory (MB, VmHWM)', Object.entries(r.peakMemoryMb).map(([k, v]) => `${k} ${v}`).join(', '));
  row('collector idle RSS before the bad inputs (MB)', `${r.idleRssMb} (memory "idle" after a kind: in-flight 0 and RSS ≤ idle + ${r.sizes.rssToleranceMb})`);
  row('result', r.ok ? 'PASS' : 'FAIL');
  return lines.join('\n');
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const argv = process.argv.slice(2);
  const mode = argv.includes('--small') ? 'small' : 'full';
  const seed = Number(argv.find((a) => a.startsWith('--seed='))?.slice(7) ?? 13);
  const out = argv.find((a) => a.startsWith('--out='))?.slice(6);
  const silent = argv.includes('--silent');
  const sizes = soakSizes(mode, argv, process.env);
  const log = (s: string) => {
    if (!silent) process.stderr.write(`${s}\n`);
  };
  runSoak(mode, seed, log, sizes).then(
    (r) => {
      if (out) writeFileSync(out, JSON.stringify(r, null, 2));
      if (!silent) process.stdout.write(`${formatSoak(r)}\n`);
      process.exit(r.ok ? 0 : 1);
    },
    (err: unknown) => {
      process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(2);
    },
  );
}
