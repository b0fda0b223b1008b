import type { Me } from './lib/types.ts';

/**
 * The UI's only way to the server: the public REST API with the token the person signed in
 * with. The token lives in sessionStorage (this tab, this browser session), goes in the
 * Authorization header and never into a URL or a log.
 */
const TOKEN_KEY = 'flowscope.token';
export const API = '/api/v1/debugging';

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string) => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN_KEY);

/** An answer that is not 2xx, with the API's error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (err: ApiError) => void;
const unauthorizedListeners = new Set<Listener>();
/** Called when any request answers 401 (the token was revoked or expired): the app signs out. */
export const onUnauthorized = (fn: Listener) => {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
};

export type Params = Record<string, string | number | boolean | undefined | null>;

export function query(params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request<T>(method: string, path: string, body?: unknown, token = getToken()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path.startsWith('/') ? path : `${API}/${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'FS_NETWORK', 'flowscope cannot be reached: check that the query API is running');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const j = (json ?? {}) as { code?: string; message?: string; errors?: { msg?: string }[] };
    const err = new ApiError(res.status, j.code ?? `HTTP_${res.status}`, j.message ?? j.errors?.[0]?.msg ?? res.statusText);
    if (res.status === 401) for (const fn of unauthorizedListeners) fn(err);
    throw err;
  }
  return json as T;
}

export const apiGet = <T>(path: string, params?: Params) => request<T>('GET', `${path}${query(params)}`);
export const apiPost = <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {});
export const apiPatch = <T>(path: string, body: unknown) => request<T>('PATCH', path, body);

export type { Me };

/** Checks a token before keeping it: who it is, or why it is refused. */
export const whoAmI = (token: string) => request<Me>('GET', 'me', undefined, token);

/** A message for people from an ApiError (or anything thrown). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Your token was not accepted: it is wrong, revoked or expired. Sign in again with a valid token.';
    if (err.status === 403) return 'Your token may read but not change this (an admin token is needed).';
    if (err.status === 429) return 'Too many requests with this token: wait a moment and retry.';
    return err.message;
  }
  return err instanceof Error ? err.message : String(err);
}
