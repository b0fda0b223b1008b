import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { apiGet, type Params } from './api.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GETs an API path whenever the path or params change; the latest request wins. */
export function useApi<T>(path: string | null, params?: Params): Loaded<T> {
  const key = path === null ? null : `${path}${JSON.stringify(params ?? {})}`;
  const [state, setState] = useState<{ key: string | null; data?: T; error?: unknown; loading: boolean }>({ key: null, loading: path !== null });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (path === null) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, key, loading: true }));
    apiGet<T>(path, params).then(
      (data) => mine === seq.current && setState({ key, data, error: undefined, loading: false }),
      (error: unknown) => mine === seq.current && setState({ key, data: undefined, error, loading: false }),
    );
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** Sets the document title (what the browser tab and history show). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · flowscope`;
  }, [title]);
}
