/**
 * The System page's view of every flowscope process: health, readiness and the flowscope_*
 * metrics of the query API (this process), the collector and the alerting worker. The other
 * processes are read server-side from the base URLs in the configuration (their /health,
 * /ready and /metrics ports), each request bounded in time and size; a browser never needs to
 * reach them. In the all-in-one the collector is read on its own port and the alerting worker
 * shares this process.
 */
import type { Registry } from 'prom-client';

/** A Prometheus sample: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text exposition format: comments skipped, escaped label values
 * unescaped, non-finite values (+Inf, NaN) left out (JSON cannot carry them).
 */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l: RegExpExecArray | null;
      while ((l = re.exec(m[2])) !== null) labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = Number(m[3]);
    if (Number.isFinite(value)) out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** flowscope's own samples, without histogram buckets (their sums and counts stay). */
export const ownSamples = (samples: Sample[]): Sample[] => samples.filter((s) => s.name.startsWith('flowscope_') && !s.name.endsWith('_bucket'));

export interface Check {
  ok: boolean;
  /** The HTTP status, or null when there was no answer. */
  status: number | null;
  detail: string;
}

export interface ComponentState {
  name: 'query-api' | 'collector' | 'alerting';
  /** `this process`, `remote` (read from `url`), or `not configured`. */
  where: 'this process' | 'remote' | 'not configured';
  /** The base URL read, without credentials; null for this process. */
  url: string | null;
  health: Check | null;
  ready: Check | null;
  samples: Sample[];
  /** Why the metrics could not be read, or null. */
  error: string | null;
}

export interface ProbeLimits {
  timeoutMs: number;
  maxBytes: number;
}

/** A URL without its user name and password (never shown or returned). */
export function displayUrl(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/+$/, '');
}

/** GET with a deadline and a cap on the body; the body as text, or a message saying what went wrong. */
async function get(url: string, limits: ProbeLimits): Promise<{ status: number; body: string } | { error: string }> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  // credentials in the configured URL go as Basic authentication (fetch refuses them in a URL)
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'text/plain, application/json' };
  if (u.username || u.password) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  try {
    const res = await fetch(u, { signal, redirect: 'error', headers });
    const reader = res.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > limits.maxBytes) {
          await reader.cancel();
          return { error: `answer larger than ${limits.maxBytes} bytes (FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES)` };
        }
        chunks.push(value);
      }
    }
    return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
  } catch (err) {
    if (signal.aborted) return { error: `no answer within ${limits.timeoutMs} ms (FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS)` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    // the cause's code (ECONNREFUSED…), never a message that could quote the URL
    return { error: `unreachable: ${cause?.code ?? (err as Error).name}` };
  }
}

const statusOf = (body: string): string => {
  try {
    const j = JSON.parse(body) as { status?: unknown; error?: unknown };
    return [j.status, j.error].filter((x) => typeof x === 'string').join(': ') || body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
};

const check = (r: { status: number; body: string } | { error: string }): Check =>
  'error' in r ? { ok: false, status: null, detail: r.error } : { ok: r.status >= 200 && r.status < 300, status: r.status, detail: statusOf(r.body) };

/** Reads another process's /health, /ready and /metrics. */
export async function probeRemote(name: ComponentState['name'], baseUrl: string | undefined, limits: ProbeLimits): Promise<ComponentState> {
  if (!baseUrl) return { name, where: 'not configured', url: null, health: null, ready: null, samples: [], error: null };
  const base = baseUrl.replace(/\/+$/, '');
  const [h, r, m] = await Promise.all([get(`${base}/health`, limits), get(`${base}/ready`, limits), get(`${base}/metrics`, limits)]);
  let error: string | null = null;
  let samples: Sample[] = [];
  if ('error' in m) error = m.error;
  else if (m.status !== 200) error = `/metrics answered ${m.status}`;
  else samples = ownSamples(parsePrometheusText(m.body));
  return { name, where: 'remote', url: displayUrl(base), health: check(h), ready: check(r), samples, error };
}

/** This process's own state: it answers (healthy), its readiness checks, its registry. */
export async function probeSelf(
  name: ComponentState['name'],
  registry: Registry,
  ready: () => Promise<Check>,
  keep: (s: Sample) => boolean = () => true,
): Promise<ComponentState> {
  const samples = ownSamples(parsePrometheusText(await registry.metrics())).filter(keep);
  return { name, where: 'this process', url: null, health: { ok: true, status: 200, detail: 'healthy' }, ready: await ready(), samples, error: null };
}
