/**
 * flowscope benchmarks: `pnpm bench` (full), `pnpm bench --quick` (under two minutes).
 * Prints one table (every line with its ratio to a baseline measured in the same run, or to
 * its target) and writes bench/results/<date>.json. Needs PostgreSQL (FLOWSCOPE_TEST_ADMIN_URL,
 * allowed to CREATE DATABASE). Options: --quick, --tiny (the harness test), --only=a,b (sections
 * by name), --out=<file>.
 *
 * Sections are a plain list: a module exporting a BenchSection ({ name, run(ctx) }) is added
 * below and reports its lines with ctx.add().
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { createContext, type BenchMode, type BenchSection } from './lib/context.ts';
import { formatTable } from './lib/table.ts';
import { copySection } from './sections/copy.ts';
import { ingestSection } from './sections/ingest.ts';
import { querySection } from './sections/queries.ts';
import { alertSection } from './sections/alert.ts';
import { writerSection } from './sections/writer.ts';
import { uiSection } from './sections/ui.ts';
import { rootcauseSection } from './sections/rootcause.ts';

export const SECTIONS: BenchSection[] = [copySection, writerSection, ingestSection, querySection, alertSection, uiSection, rootcauseSection];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode: BenchMode = args.includes('--tiny') ? 'tiny' : args.includes('--quick') ? 'quick' : 'full';
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const out = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  const unknown = only?.filter((n) => !SECTIONS.some((s) => s.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.name).join(', ')}`);
  const ctx = createContext(mode, args.includes('--silent'));
  const started = Date.now();
  for (const section of SECTIONS) {
    if (only && !only.includes(section.name)) continue;
    ctx.log(`${section.name}…`);
    const t0 = Date.now();
    await section.run(ctx);
    ctx.log(`${section.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\..*/, '');
  const file = out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `${date}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    mode,
    sizes: ctx.sizes,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryMb: Math.round(totalmem() / 2 ** 20), node: process.version },
    durationSeconds: Math.round((Date.now() - started) / 1000),
    rows: ctx.rows,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${formatTable(ctx.rows, `flowscope bench (${mode}) — ${report.durationSeconds} s, ${report.machine.cpus} cores; ratios are against baselines measured in this run`)}\n`);
  process.stdout.write(`results: ${file}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
