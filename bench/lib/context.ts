import { TEST_ADMIN_URL } from '@flowscope/storage/testing';

/** How big a run is: `full` (pnpm bench), `quick` (--quick, under two minutes), `tiny` (--tiny: the test proving the harness works). */
export type BenchMode = 'full' | 'quick' | 'tiny';

export interface BenchSizes {
  /** Spans per COPY baseline measurement. */
  copySpans: number;
  /** Seconds of closed-loop load per ingest configuration, then half as long at 80 % of it. */
  ingestSeconds: number;
  /** Load generator processes and requests in flight per process. */
  loadProcesses: number;
  loadConcurrency: number;
  /** Database sizes the query benchmarks run on. */
  querySpans: number[];
  /** Requests per query measurement. */
  queryIterations: number;
  /** Alert latency runs, and the evaluation interval used. */
  alertRuns: number;
  alertIntervalSeconds: number;
  /** Spans of the storage writer comparison. */
  writerSpans: number;
}

export const SIZES: Record<BenchMode, BenchSizes> = {
  full: { copySpans: 400_000, ingestSeconds: 20, loadProcesses: 2, loadConcurrency: 4, querySpans: [1_000_000, 10_000_000], queryIterations: 300, alertRuns: 5, alertIntervalSeconds: 2, writerSpans: 100_000 },
  quick: { copySpans: 100_000, ingestSeconds: 5, loadProcesses: 2, loadConcurrency: 4, querySpans: [1_000_000], queryIterations: 60, alertRuns: 3, alertIntervalSeconds: 1, writerSpans: 20_000 },
  tiny: { copySpans: 4_000, ingestSeconds: 1, loadProcesses: 1, loadConcurrency: 2, querySpans: [10_000], queryIterations: 5, alertRuns: 1, alertIntervalSeconds: 0.5, writerSpans: 2_000 },
};

/**
 * One line of the table. Every measurement names the baseline it is compared with (measured in
 * the same run where it can be, or the target where the baseline is a limit) and the
 * ratio to it, because on a shared machine only ratios mean something.
 */
export interface BenchRow {
  section: string;
  name: string;
  value: number;
  unit: string;
  /** What the ratio is taken against. */
  baseline: string;
  ratio: number | null;
  /** The target, in words, and whether this run met it (null: no target). */
  target?: string;
  met?: boolean | null;
  /** Further figures (p50, RSS, counts…). */
  extra?: Record<string, number | string | boolean>;
}

export interface BenchContext {
  mode: BenchMode;
  sizes: BenchSizes;
  /** A PostgreSQL role that may CREATE DATABASE (FLOWSCOPE_TEST_ADMIN_URL). */
  adminUrl: string;
  rows: BenchRow[];
  add(row: BenchRow): void;
  /** A row measured earlier in this run (baselines for later sections). */
  find(section: string, name: string): BenchRow | undefined;
  /** Progress on stderr (the table goes to stdout). */
  log(message: string): void;
}

/** A section of the benchmark; bench/run.ts lists them in order. */
export interface BenchSection {
  name: string;
  run(ctx: BenchContext): Promise<void>;
}

export function createContext(mode: BenchMode, quiet: boolean): BenchContext {
  const rows: BenchRow[] = [];
  return {
    mode,
    sizes: SIZES[mode],
    adminUrl: TEST_ADMIN_URL,
    rows,
    add: (row) => {
      rows.push(row);
    },
    find: (section, name) => rows.find((r) => r.section === section && r.name === name),
    log: (message) => {
      if (!quiet) process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
    },
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (v: number, digits = 2): number => Number.isFinite(v) ? Number(v.toFixed(digits)) : v;
