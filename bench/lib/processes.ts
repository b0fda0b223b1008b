import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@flowscope/common/testing';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export { freePort };

/** Peak resident set size of a process in MB (Linux VmHWM), NaN where /proc is missing. */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export interface CollectorProcess {
  pid: number;
  httpUrl: string;
  grpcTarget: string;
  /** SIGTERM, wait for exit; returns the peak RSS read just before. */
  stop(): Promise<{ peakRssMb: number }>;
}

/**
 * The real collector process (collector/src/main.ts under node --import tsx, so the pid is the
 * collector's own), on free loopback ports. BENCH_CPU_PROF=<dir> profiles it (node --cpu-prof).
 */
export async function startCollector(env: Record<string, string>): Promise<CollectorProcess> {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const args = ['--conditions=flowscope-source', '--import', 'tsx'];
  if (process.env.BENCH_CPU_PROF) args.push('--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF);
  const child = spawn(process.execPath, [...args, join(REPO_ROOT, 'collector/src/main.ts')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      LOG_LEVEL: 'warn',
      FLOWSCOPE_COLLECTOR_HOST: '127.0.0.1',
      FLOWSCOPE_COLLECTOR_PORT: String(httpPort),
      FLOWSCOPE_COLLECTOR_GRPC_PORT: String(grpcPort),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the collector exited with ${child.exitCode}: ${output}`);
    const ok = await fetch(`${httpUrl}/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the collector did not become ready: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    httpUrl,
    grpcTarget: `127.0.0.1:${grpcPort}`,
    stop: async () => {
      const peak = peakRssMb(child.pid!);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      return { peakRssMb: peak };
    },
  };
}

/** A forked bench/loadgen.ts; request() sends a command and waits for its answer. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private waiting: { resolve(v: unknown): void; reject(e: Error): void } | undefined;

  constructor() {
    this.child = fork(join(REPO_ROOT, 'bench/loadgen.ts'), [], { execArgv: ['--conditions=flowscope-source', '--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (m: { type: string; message?: string }) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === 'error') w?.reject(new Error(m.message));
      else w?.resolve(m);
    });
    this.child.on('exit', (code) => this.waiting?.reject(new Error(`load generator exited with ${code}`)));
  }

  request<T>(command: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting = { resolve: resolve as (v: unknown) => void, reject };
      this.child.send(command as object);
    });
  }

  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'exit' });
    await done;
  }
}
