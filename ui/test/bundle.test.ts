import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UI_DIST_DIR, uiBuilt } from '../index.ts';

/** The budget for what the first page load runs: 300 KB of gzipped JavaScript. */
const FIRST_LOAD_BUDGET_BYTES = 300 * 1024;

describe('the built UI', () => {
  it('first load (the entry script and what it preloads) stays under 300 KB gzipped; the charts load later', async () => {
    if (!uiBuilt()) throw new Error('the UI is not built: run `npx pnpm@10.34.8 ui:build` (the test command does it first)');
    const html = await readFile(join(UI_DIST_DIR, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="([^"]+\.js)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    let gz = 0;
    const code: string[] = [];
    for (const src of scripts) {
      const js = await readFile(join(UI_DIST_DIR, src.replace(/^\//, '')));
      gz += gzipSync(js).byteLength;
      code.push(js.toString('utf8'));
    }
    expect(gz).toBeLessThan(FIRST_LOAD_BUDGET_BYTES);
    const all = code.join('\n');
    // uPlot comes with the performance page only
    expect(all).not.toContain('uplot');
    // the API's generated types are types only: no route table of the OpenAPI document in the code
    expect(all).not.toContain('/api/v1/debugging/alert-rules/{id}/disable');
  });
});
