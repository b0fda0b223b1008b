import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { parseConfig } from '@flowscope/common';
import { writeSpans, type SpanRecord } from '@flowscope/storage';
import { buildQueryApi, createToken, queryApiConfigShape } from '@flowscope/query-api';
import { uiBuilt } from '@flowscope/ui';
import { percentile, round, type BenchSection } from '../lib/context.ts';
import { benchDatabase } from '../lib/db.ts';

const CHROMIUM = process.env.FLOWSCOPE_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** A workflow of `n` spans: an API span over service calls of up to 100 queries each. */
function workflow(id: string, n: number, traceNo: number): SpanRecord[] {
  const traceId = traceNo.toString(16).padStart(32, '0');
  const t0 = BigInt(Date.now() - 60_000) * 1_000_000n;
  const ms = (x: number) => BigInt(Math.round(x * 1e6));
  const sid = (x: number) => x.toString(16).padStart(16, '0');
  const base = { traceId, workflowId: id, workflowType: 'report', kind: 1, statusCode: 0, statusMessage: null, isError: false, userId: 'u-1', scopeName: 'bench', attributes: { 'db.system': 'postgresql' }, events: [], links: [] };
  const out: SpanRecord[] = [{ ...base, spanId: sid(1), parentSpanId: null, layer: 'api', component: 'report-api', name: 'GET /report', startUnixNano: t0, endUnixNano: t0 + ms(5000), resource: { 'service.name': 'report-api' } }];
  let next = 2;
  for (let call = 0; out.length < n; call++) {
    const callId = sid(next++);
    const start = t0 + ms(10 + call * 50);
    out.push({ ...base, spanId: callId, parentSpanId: sid(1), layer: 'service', component: 'ledger', name: `load page ${call}`, startUnixNano: start, endUnixNano: start + ms(45), resource: { 'service.name': 'ledger' } });
    for (let j = 0; j < 100 && out.length < n; j++) {
      const qs = start + ms(0.4 * j);
      out.push({ ...base, spanId: sid(next++), parentSpanId: callId, layer: 'database', component: 'ledger', name: `SELECT entries ${call}.${j}`, startUnixNano: qs, endUnixNano: qs + ms(0.35), resource: { 'service.name': 'ledger' } });
    }
  }
  return out;
}

/**
 * UI: time from navigation to the waterfall drawn (the page's `flowscope:waterfall-drawn`
 * performance mark, in the page's own clock) for a 10,000-span workflow in Debian's Chromium,
 * against the same page for a 10-span workflow measured in the same run. p50 over the runs,
 * each in a fresh tab (HTTP cache warm after the first).
 */
export const uiSection: BenchSection = {
  name: 'ui',
  async run(ctx) {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
    if (!uiBuilt()) throw new Error('the UI is not built: npx pnpm@10.34.8 ui:build');
    const runs = ctx.mode === 'full' ? 9 : ctx.mode === 'quick' ? 5 : 1;
    const d = await benchDatabase('fs_bench_ui');
    const app = await buildQueryApi({ db: d.db, config: parseConfig(queryApiConfigShape, { FLOWSCOPE_RATE_LIMIT_MAX: '100000' }), logger: pino({ level: 'silent' }) });
    const profile = await mkdtemp(join(tmpdir(), 'flowscope-bench-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1440, height: 900 },
    });
    try {
      await writeSpans(d.db, { spans: workflow('bench-ui-big', 10_000, 1), errors: [] });
      await writeSpans(d.db, { spans: workflow('bench-ui-small', 10, 2), errors: [] });
      const { token } = await createToken(d.db, { name: 'bench-ui', role: 'viewer' });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      // the token as sign-in leaves it (sessionStorage), set before the page's scripts run
      await browser.addInitScript((t: string) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('flowscope.token', t), token);
      const open = async (id: string, spans: number): Promise<number> => {
        const page = await browser.newPage();
        await page.goto(`${base}/workflows/${id}`);
        await page.getByText(`${spans.toLocaleString('en-US')} of ${spans.toLocaleString('en-US')} spans shown`).waitFor({ timeout: 60_000 });
        const drawn = await page.evaluate(() => {
          const p = (globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[] } }).performance;
          return p.getEntriesByName('flowscope:waterfall-drawn')[0]?.startTime ?? NaN;
        });
        await page.close();
        if (!Number.isFinite(drawn)) throw new Error('the page set no flowscope:waterfall-drawn mark');
        return drawn;
      };
      await open('bench-ui-small', 10); // warm-up: assets into the cache
      const small: number[] = [];
      const big: number[] = [];
      for (let i = 0; i < runs; i++) {
        small.push(await open('bench-ui-small', 10));
        big.push(await open('bench-ui-big', 10_000));
      }
      const p50Small = percentile(small, 50);
      const p50Big = percentile(big, 50);
      ctx.add({
        section: 'ui',
        name: 'open a 10,000-span workflow page (navigation → waterfall drawn)',
        value: round(p50Big, 1),
        unit: 'ms',
        baseline: 'the same page for a 10-span workflow, this run',
        ratio: p50Small > 0 ? round(p50Big / p50Small, 2) : null,
        extra: { runs, p50_10_spans_ms: round(p50Small, 1), max_ms: round(Math.max(...big), 1) },
      });
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
      await app.close();
      await d.dispose();
    }
  },
};
