import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { matchRoute, type RouteMatch } from './routes.ts';

/** History routing over the shared route table (src/routes.ts). */
export interface Location {
  path: string;
  search: URLSearchParams;
  match: RouteMatch | null;
}

const current = (): Location => ({
  path: window.location.pathname,
  search: new URLSearchParams(window.location.search),
  match: matchRoute(window.location.pathname),
});

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((fn) => fn()));

/** Goes to a URL of the UI (pushes history unless `replace`). */
export function navigate(url: string, replace = false): void {
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  listeners.forEach((fn) => fn());
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const fn = () => setLoc(current());
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }, []);
  return loc;
}

/** A link that navigates inside the UI (and is a normal link for new tabs, copying, screen readers). */
export function Link(props: { href: string; children: ComponentChildren } & Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'>) {
  const { href, children, ...rest } = props;
  return (
    <a
      {...rest}
      href={href}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
