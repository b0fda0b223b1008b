import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { UI_ROUTES, matchRoute, type RouteMatch, type RouteName } from './src/routes.ts';

// This file runs as ui/index.ts (sources) or ui/lib/index.js (compiled): the package root is the
// folder holding package.json.
const here = new URL('./', import.meta.url);
const packageRoot = existsSync(fileURLToPath(new URL('package.json', here))) ? here : new URL('../', here);

/** Where `vite build` writes the UI (ui/dist); the query API serves it at `/`. */
export const UI_DIST_DIR = fileURLToPath(new URL('dist/', packageRoot));

/** True when the UI has been built (the README's start and test commands build it first). */
export const uiBuilt = (dir: string = UI_DIST_DIR): boolean => existsSync(`${dir}/index.html`);
