import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import axe from 'axe-core';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { expect, onTestFailed } from 'vitest';

/** Debian's chromium (.ci/run installs it); FLOWSCOPE_TEST_CHROMIUM overrides. */
export const CHROMIUM = process.env.FLOWSCOPE_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Where a failing browser test leaves its screenshot. */
export const FAILURE_DIR = join(import.meta.dirname, '..', '..', 'test-results');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A real Chromium with a fresh profile, no network but what the page asks for, no GPU, no downloads. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`);
  const profile = await mkdtemp(join(tmpdir(), 'flowscope-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A new tab that records what the page complains about (CSP violations, script errors) and,
 * when the current test fails, saves a screenshot to test-results/.
 */
export async function newPage(b: Browser, name: string): Promise<Page & { problems: string[] }> {
  const page = (await b.context.newPage()) as Page & { problems: string[] };
  page.problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[134]/.test(m.text())) page.problems.push(m.text());
  });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  onTestFailed(async () => {
    await mkdir(FAILURE_DIR, { recursive: true });
    const file = join(FAILURE_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  });
  return page;
}

/** axe-core on the page as it is: no serious or critical violation. Injected by the driver (not a script tag), so the page's CSP stays as served. */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    // runs in the page (the test's tsconfig has no DOM types)
    const w = globalThis as unknown as { axe: typeof axe; document: Parameters<typeof axe.run>[0] };
    const r = await w.axe.run(w.document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `accessibility of ${label}`).toEqual([]);
}

/** With UPDATE_SCREENSHOTS=1, saves the page as docs/<name>.png (the README shows them). */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return;
  await page.screenshot({ path: join(import.meta.dirname, '..', '..', 'docs', `${name}.png`), fullPage: true });
}
