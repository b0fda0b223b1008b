/**
 * The UI's URLs, shared by the browser router and the query API (which answers these paths
 * with the page shell so that every URL can be bookmarked and reloaded). Nothing here may
 * shadow /api, /jaeger, /ws, /docs, /health, /ready or /metrics.
 */
export type RouteName =
  | 'home' | 'signin' | 'workflows' | 'workflow' | 'trace' | 'errors' | 'performance' | 'alerts' | 'alert' | 'system';

export const UI_ROUTES: readonly { name: RouteName; path: string }[] = [
  { name: 'home', path: '/' },
  { name: 'signin', path: '/signin' },
  { name: 'workflows', path: '/workflows' },
  { name: 'workflow', path: '/workflows/:id' },
  { name: 'trace', path: '/traces/:id' },
  { name: 'errors', path: '/errors' },
  { name: 'performance', path: '/performance' },
  { name: 'alerts', path: '/alerts' },
  { name: 'alert', path: '/alerts/:id' },
  { name: 'system', path: '/system' },
];

export interface RouteMatch {
  name: RouteName;
  params: Record<string, string>;
}

/** Matches a pathname (no query string) against UI_ROUTES; a trailing slash is ignored. */
export function matchRoute(pathname: string): RouteMatch | null {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const parts = path.split('/');
  for (const route of UI_ROUTES) {
    const want = route.path.split('/');
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < want.length; i++) {
      const w = want[i] as string;
      const p = parts[i] as string;
      if (w.startsWith(':')) {
        if (p === '') { ok = false; break; }
        try {
          params[w.slice(1)] = decodeURIComponent(p);
        } catch {
          ok = false;
          break;
        }
      } else if (w !== p) {
        ok = false;
        break;
      }
    }
    if (ok) return { name: route.name, params };
  }
  return null;
}
