import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export { UI_ROUTES, matchRoute, type RouteMatch, type RouteName } from './src/routes.ts';

/** Where `vite build` writes the UI (ui/dist); the query API serves it at `/`. */
export const UI_DIST_DIR = fileURLToPath(new URL('./dist/', import.meta.url));

/** True when the UI has been built (the README's start and test commands build it first). */
export const uiBuilt = (dir: string = UI_DIST_DIR): boolean => existsSync(`${dir}/index.html`);
