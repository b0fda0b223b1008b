/**
 * Suspects: the spans of one workflow (or trace) most likely at fault, ranked, each with its
 * reason, evidence and a one-sentence summary. Pure functions over the span tree and the
 * critical path; the REST layer feeds them rows and per-operation baselines.
 *
 * Rules (documented in the README, proven by test/suspects.test.ts and the scenario suite):
 * - error: a failing span none of whose own children failed (the origin). Its failing
 *   ancestors only propagated the failure and are not suspects.
 * - timeout: an origin whose error type or message says it timed out, or a CLIENT span that
 *   failed while its server side is missing (no child and no response status) or ended early.
 *   The client span that waited is blamed, and the downstream service is named.
 * - slow: a span on the critical path that ran longer than its operation's p95 baseline and
 *   whose own excess — the time it ran over its usual (p50) duration minus what its children ran
 *   over theirs — is more than its operation's usual spread (p95 − p50); ranked by that excess
 *   as a share of the critical path, weighted by how unusual it was (log10 of the ratio,
 *   capped at 1 from 10×).
 * - no baseline yet for an operation: its self time on the critical path stands in, and the
 *   summary says so.
 * Failures outrank slowness: error and timeout scores lie in [1, 2], slow ones in [0, 1],
 * self-time fallbacks in [0, 0.5].
 */
import { normalizeOperation } from '@flowscope/storage';
import { type CriticalSegment, type SpanNode, type SpanNodeInput, walk } from './analysis.ts';

export interface SuspectSpanInput extends SpanNodeInput {
  workflow_type: string;
  kind: number;
  is_error: boolean;
  status_message: string | null;
  attributes: Record<string, unknown>;
  events: { name: string; attributes: Record<string, unknown> }[];
}

export interface OperationBaseline {
  p50_ms: number;
  p95_ms: number;
  count: number;
}

/** Baseline of (workflow type, layer, component, normalised operation), or undefined. */
export type BaselineLookup = (workflowType: string, layer: string, component: string, operation: string) => OperationBaseline | undefined;

export type SuspectReason = 'error' | 'timeout' | 'slow';

export interface Suspect {
  span_id: string;
  trace_id: string;
  layer: string;
  component: string;
  operation: string;
  reason: SuspectReason;
  score: number;
  summary: string;
  duration_ms: number;
  self_ms: number;
  baseline_p50_ms: number | null;
  baseline_p95_ms: number | null;
  ratio: number | null;
  excess_ms: number | null;
  on_critical_path: boolean;
  error_type: string | null;
  error_message: string | null;
  /** The service waited on (timeouts), when the span names it. */
  downstream: string | null;
}

export interface SuspectOptions {
  /** Most suspects returned. */
  max?: number;
  /** Overlap tolerance of the critical path, also the slack for "server ended early". */
  toleranceUs?: number;
}

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;
const TIMEOUT_RE = /time[ds]?[\s_-]?out|deadline[\s_-]?exceeded|ETIMEDOUT|ESOCKETTIMEDOUT/i;

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function errorOf(span: SuspectSpanInput): { type: string | null; message: string | null } {
  const ex = span.events.find((e) => e.name === 'exception')?.attributes;
  return {
    type: str(span.attributes['error.type']) ?? str(ex?.['exception.type']),
    message: span.status_message ?? str(ex?.['exception.message']),
  };
}

function hostOf(url: unknown): string | null {
  const u = str(url);
  if (!u) return null;
  try {
    return new URL(u).host || null;
  } catch {
    return null;
  }
}

/** The service a client span talks to, from the usual semantic-convention attributes. */
export function downstreamOf(span: SuspectSpanInput, server?: SuspectSpanInput): string | null {
  const a = span.attributes;
  return (
    server?.component ??
    str(a['peer.service']) ??
    str(a['server.address']) ??
    str(a['net.peer.name']) ??
    hostOf(a['url.full']) ??
    hostOf(a['http.url']) ??
    str(a['db.system.name']) ??
    str(a['db.system']) ??
    str(a['rpc.service']) ??
    null
  );
}

const REFUSED_RE = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|connection refused/i;
/** An error message that reports the answer the call got ("answered 502", "status code 503",
 * "HTTP 500", "502 Bad Gateway"): a response came, so the call did not time out waiting. */
const ANSWERED_RE =
  /\b(?:answered|responded|returned|replied|status(?:\s+code)?|HTTP(?:\/\d(?:\.\d)?)?)\s*:?\s*[1-5]\d\d\b|\b[1-5]\d\d\s+(?:Bad Gateway|Bad Request|Service Unavailable|Internal Server Error|Not Found|Unauthorized|Forbidden|Conflict|Too Many Requests)\b/i;
const NO_SERVER_LAYERS = new Set(['database', 'cache', 'queue']);
/** A client call that has a server side (HTTP or RPC), as opposed to a database or cache client. */
const isRemoteCall = (span: SuspectSpanInput) =>
  !NO_SERVER_LAYERS.has(span.layer) &&
  span.attributes['db.system'] === undefined &&
  span.attributes['db.system.name'] === undefined &&
  (span.attributes['http.request.method'] !== undefined ||
    span.attributes['http.method'] !== undefined ||
    span.attributes['rpc.system'] !== undefined ||
    span.attributes['url.full'] !== undefined ||
    span.attributes['server.address'] !== undefined ||
    span.attributes['peer.service'] !== undefined);

const hasResponse = (a: Record<string, unknown>) =>
  a['http.response.status_code'] !== undefined || a['http.status_code'] !== undefined || a['rpc.grpc.status_code'] !== undefined;

const ms = (us: number) => us / 1000;
const round = (v: number, digits = 2) => Number(v.toFixed(digits));
const fmt = (v: number) => (v >= 100 ? Math.round(v).toString() : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/**
 * Ranks the suspects of a span forest. `path` is its critical path (criticalPath(roots)).
 */
export function findSuspects<S extends SuspectSpanInput>(
  roots: readonly SpanNode<S>[],
  path: readonly CriticalSegment[],
  baseline: BaselineLookup,
  options: SuspectOptions = {},
): Suspect[] {
  const max = options.max ?? 10;
  const tolerance = options.toleranceUs ?? 1000;
  const key = (t: string, s: string) => `${t}/${s}`;
  const onPath = new Map<string, number>();
  let pathUs = 0;
  for (const seg of path) {
    pathUs += seg.end_us - seg.start_us;
    if (seg.span_id === null || seg.trace_id === null) continue;
    const k = key(seg.trace_id, seg.span_id);
    onPath.set(k, (onPath.get(k) ?? 0) + seg.end_us - seg.start_us);
  }
  const total = Math.max(pathUs, 1);
  const parent = new Map<SpanNode<S>, SpanNode<S>>();
  walk(roots, (n) => {
    for (const c of n.children) parent.set(c, n);
  });
  const failedAncestors = (target: SpanNode<S>) => {
    let count = 0;
    for (let p = parent.get(target); p; p = parent.get(p)) if (p.span.is_error) count++;
    return count;
  };

  // Baselines and excess (over p50) per span, computed once.
  const info = new Map<SpanNode<S>, { b: OperationBaseline | undefined; excessUs: number }>();
  walk(roots, (n) => {
    const op = normalizeOperation(n.span.name);
    const b = baseline(n.span.workflow_type, n.span.layer, n.span.component, op);
    const dur = n.span.end_us - n.span.start_us;
    info.set(n, { b, excessUs: b ? Math.max(0, dur - b.p50_ms * 1000) : 0 });
  });

  const out: Suspect[] = [];
  walk(roots, (n) => {
    const sp = n.span;
    const k = key(sp.trace_id, sp.span_id);
    const durUs = sp.end_us - sp.start_us;
    const pathShare = (onPath.get(k) ?? 0) / total;
    const { b, excessUs } = info.get(n)!;
    const childExcess = n.children.reduce((t, c) => t + info.get(c)!.excessUs, 0);
    const ownExcessUs = Math.max(0, excessUs - childExcess);
    const base = {
      span_id: sp.span_id,
      trace_id: sp.trace_id,
      layer: sp.layer,
      component: sp.component,
      operation: sp.name,
      duration_ms: round(ms(durUs), 3),
      self_ms: round(ms(n.self_us), 3),
      baseline_p50_ms: b ? round(b.p50_ms, 3) : null,
      baseline_p95_ms: b ? round(b.p95_ms, 3) : null,
      ratio: b && b.p50_ms > 0 ? round(ms(durUs) / b.p50_ms) : null,
      excess_ms: b ? round(ms(ownExcessUs), 3) : null,
      on_critical_path: onPath.has(k),
    };
    const who = `${sp.component} ${sp.name}`;

    if (sp.is_error && !n.children.some((c) => c.span.is_error)) {
      const err = errorOf(sp);
      const propagated = failedAncestors(n);
      const isClient = sp.kind === SPAN_KIND_CLIENT;
      const server = n.children.find((c) => c.span.kind === SPAN_KIND_SERVER);
      // Only calls that have a server side to wait for (HTTP, RPC — not a database or cache
      // client), that got no response, and did not fail to connect at all.
      const missingServer =
        isClient && isRemoteCall(sp) && n.children.length === 0 && !hasResponse(sp.attributes) && !REFUSED_RE.test(err.message ?? '') && !ANSWERED_RE.test(err.message ?? '');
      const endedEarly = isClient && server !== undefined && server.span.end_us + tolerance < sp.end_us;
      const byText = TIMEOUT_RE.test(`${err.type ?? ''} ${err.message ?? ''}`);
      const ancestors = propagated > 0 ? `; ${propagated} ancestor span${propagated === 1 ? '' : 's'} failed because of it` : '';
      if (byText || missingServer || endedEarly) {
        const downstream = downstreamOf(sp, server?.span);
        const why = endedEarly
          ? `its server side ended ${fmt(ms(sp.end_us - server!.span.end_us))} ms before it gave up`
          : missingServer
            ? 'no response and no server span arrived'
            : (err.message ?? err.type ?? 'timed out');
        out.push({
          ...base,
          reason: 'timeout',
          score: round(1 + 0.5 + 0.5 * pathShare, 4),
          summary: `${who} timed out after ${fmt(ms(durUs))} ms waiting for ${downstream ?? 'its downstream service'} (${why})${ancestors}.`,
          error_type: err.type,
          error_message: err.message,
          downstream,
        });
      } else {
        out.push({
          ...base,
          reason: 'error',
          score: round(1 + 0.4 + 0.5 * pathShare, 4),
          summary: `${who} failed${err.type ? ` with ${err.type}` : ''}${err.message ? `: ${err.message}` : ''} — where the failure started${ancestors}.`,
          error_type: err.type,
          error_message: err.message,
          downstream: null,
        });
      }
      return;
    }
    if (!onPath.has(k) || sp.is_error) return;
    if (b) {
      // Over its p95, and what it adds itself is more than its operation's usual spread (p95 − p50):
      // an ancestor whose excess is its children's is not a suspect.
      if (durUs <= b.p95_ms * 1000 || ownExcessUs <= (b.p95_ms - b.p50_ms) * 1000 || b.p50_ms <= 0) return;
      const ratio = ms(durUs) / b.p50_ms;
      const weight = Math.min(1, Math.log10(ratio));
      const score = Math.min(1, ownExcessUs / total) * weight;
      if (score <= 0) return;
      out.push({
        ...base,
        reason: 'slow',
        score: round(score, 4),
        summary: `${who} took ${fmt(ms(durUs))} ms, ${ratio.toFixed(1)}× its usual ${fmt(b.p50_ms)} ms (p95 ${fmt(b.p95_ms)} ms), adding ${fmt(ms(ownExcessUs))} ms to the critical path.`,
        error_type: null,
        error_message: null,
        downstream: null,
      });
    } else {
      const selfOnPath = Math.min(n.self_us, onPath.get(k) ?? 0);
      if (selfOnPath <= 0) return;
      out.push({
        ...base,
        reason: 'slow',
        score: round((0.5 * selfOnPath) / total, 4),
        summary: `${who} spent ${fmt(ms(selfOnPath))} ms of its own time on the critical path (${Math.round((100 * selfOnPath) / total)} %); no baseline for this operation yet, so it is ranked by self time.`,
        error_type: null,
        error_message: null,
        downstream: null,
      });
    }
  });
  return out
    .sort((a, b) => b.score - a.score || b.duration_ms - a.duration_ms || (a.span_id < b.span_id ? -1 : 1))
    .slice(0, max);
}
