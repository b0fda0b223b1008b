/**
 * Writes the dashboards into grafana/dashboards/ (run: npx pnpm@10.34.8 dashboards).
 * Files of dashboards no longer generated are removed, so the folder is exactly the output.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from './index.ts';

export const DASHBOARDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');

const files = renderDashboards();
mkdirSync(DASHBOARDS_DIR, { recursive: true });
for (const existing of readdirSync(DASHBOARDS_DIR)) {
  if (existing.endsWith('.json') && !(existing in files)) rmSync(join(DASHBOARDS_DIR, existing));
}
for (const [file, text] of Object.entries(files)) {
  writeFileSync(join(DASHBOARDS_DIR, file), text);
  console.log(`wrote ${join('grafana', 'dashboards', file)}`);
}
