import type { DecodedExport, DecodedSpan } from './model.ts';

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface ValidationResult {
  /** The request with invalid spans removed. */
  valid: DecodedExport;
  rejected: number;
  /** One line per kind of problem with how many spans had it (OTLP partial success message). */
  message: string;
  /** Names cut to the limit (the spans were kept). */
  truncated: number;
}

/** Why a span is refused, or undefined when it is valid. */
export function spanProblem(s: {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  startUnixNano: bigint;
  endUnixNano: bigint;
}): string | undefined {
  if (!TRACE_ID.test(s.traceId) || s.traceId === ZERO_TRACE) return 'invalid trace id (need 16 non-zero bytes)';
  if (!SPAN_ID.test(s.spanId) || s.spanId === ZERO_SPAN) return 'invalid span id (need 8 non-zero bytes)';
  if (s.parentSpanId !== '' && !SPAN_ID.test(s.parentSpanId)) return 'invalid parent span id (need 8 bytes or none)';
  if (s.startUnixNano <= 0n) return 'missing start time';
  if (s.endUnixNano < s.startUnixNano) return 'end time before start time';
  return undefined;
}

/**
 * Bounds on the values that end up in indexed columns (PostgreSQL refuses an index row over
 * 2704 bytes). Identifiers (workflow id and type, user id) longer than maxIdChars refuse
 * the span, since cutting them would merge different workflows; names (service.name, span and
 * scope name, exception.type, error.type) longer than maxNameChars are cut to it, ending in "…".
 */
export interface ValueLimits {
  maxIdChars: number;
  maxNameChars: number;
}

export const DEFAULT_VALUE_LIMITS: ValueLimits = { maxIdChars: 256, maxNameChars: 512 };
/** 4 bytes per character at most in UTF-8, so either limit keeps an index row under 2704 bytes. */
export const MAX_INDEXED_CHARS = 600;

/** The latest time stored: 9999-12-31T23:59:59.999999999Z (JavaScript dates and ISO-8601 years end there). */
export const MAX_UNIX_NANO = 253402300799999999999n;

/** Attributes (span or resource) whose values are identifiers kept in indexed columns. */
const ID_ATTRIBUTES = [
  'workflow.id',
  'workflow.type',
  'correlation_id',
  'correlation.id',
  'http.request.header.x-correlation-id',
  'http.request.header.x_correlation_id',
  'user.id',
  'enduser.id',
];
/** Attributes whose values are names kept in indexed columns: cut to maxNameChars. */
const NAME_ATTRIBUTES = ['service.name', 'exception.type', 'error.type'];

const lengthOf = (v: unknown): number =>
  typeof v === 'string' ? v.length : Array.isArray(v) && typeof v[0] === 'string' ? v[0].length : 0;

/** v cut to at most max characters (never inside a surrogate pair), ending in "…" when cut. */
export function truncate(v: string, max: number): string {
  if (v.length <= max) return v;
  let cut = max - 1;
  const c = v.charCodeAt(cut - 1);
  if (c >= 0xd800 && c <= 0xdbff) cut--;
  return `${v.slice(0, cut)}…`;
}

function cutNames(attributes: Record<string, unknown>, max: number): number {
  let n = 0;
  for (const key of NAME_ATTRIBUTES) {
    const v = attributes[key];
    if (typeof v === 'string' && v.length > max) {
      attributes[key] = truncate(v, max);
      n++;
    }
  }
  return n;
}

/** Why a span's values cannot be stored (an identifier too long, a time out of range), if so. */
function valueProblem(s: DecodedSpan, resource: Record<string, unknown>, limits: ValueLimits): string | undefined {
  if (s.startUnixNano > MAX_UNIX_NANO || s.endUnixNano > MAX_UNIX_NANO) return 'start or end time after year 9999';
  for (const e of s.events) {
    if (e.timeUnixNano < 0n || e.timeUnixNano > MAX_UNIX_NANO) return 'event time out of range (before 1970 or after year 9999)';
  }
  for (const key of ID_ATTRIBUTES) {
    if (lengthOf(s.attributes[key]) > limits.maxIdChars || lengthOf(resource[key]) > limits.maxIdChars) {
      return `attribute ${key} longer than ${limits.maxIdChars} characters (FLOWSCOPE_MAX_ID_CHARS)`;
    }
  }
  return undefined;
}

/**
 * Removes spans that cannot be stored and says why (the validate stage), naming the first
 * span of each kind of problem; cuts over-long names to the limit.
 */
export function validateExport(req: DecodedExport, limits: ValueLimits = DEFAULT_VALUE_LIMITS): ValidationResult {
  const problems = new Map<string, { n: number; first: string }>();
  let rejected = 0;
  let truncated = 0;
  const resourceSpans = req.resourceSpans.map((rs) => {
    truncated += cutNames(rs.resource, limits.maxNameChars);
    return {
      resource: rs.resource,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        scopeName: truncate(ss.scopeName, limits.maxNameChars),
        spans: ss.spans.filter((s) => {
          // An all-zero parent id means "no parent" in some SDKs.
          if (s.parentSpanId === ZERO_SPAN) s.parentSpanId = '';
          const p = spanProblem(s) ?? valueProblem(s, rs.resource, limits);
          if (p === undefined) {
            if (s.name.length > limits.maxNameChars) {
              s.name = truncate(s.name, limits.maxNameChars);
              truncated++;
            }
            truncated += cutNames(s.attributes, limits.maxNameChars);
            for (const e of s.events) truncated += cutNames(e.attributes, limits.maxNameChars);
            return true;
          }
          rejected++;
          const seen = problems.get(p);
          if (seen) seen.n++;
          else problems.set(p, { n: 1, first: `span ${s.spanId.slice(0, 16) || '(none)'} of trace ${s.traceId.slice(0, 32) || '(none)'}` });
          return false;
        }),
      })),
    };
  });
  const message = [...problems].map(([p, { n, first }]) => `${n} span(s): ${p} (first: ${first})`).join('; ');
  return { valid: { resourceSpans, spanCount: req.spanCount - rejected }, rejected, message, truncated };
}
