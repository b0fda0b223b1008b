import type { DecodedExport } from './model.ts';

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

/** Removes spans that cannot be stored and says why (the validate stage). */
export function validateExport(req: DecodedExport): ValidationResult {
  const problems = new Map<string, number>();
  let rejected = 0;
  const resourceSpans = req.resourceSpans.map((rs) => ({
    resource: rs.resource,
    scopeSpans: rs.scopeSpans.map((ss) => ({
      scopeName: ss.scopeName,
      spans: ss.spans.filter((s) => {
        // An all-zero parent id means "no parent" in some SDKs.
        if (s.parentSpanId === ZERO_SPAN) s.parentSpanId = '';
        const p = spanProblem(s);
        if (p === undefined) return true;
        rejected++;
        problems.set(p, (problems.get(p) ?? 0) + 1);
        return false;
      }),
    })),
  }));
  const message = [...problems].map(([p, n]) => `${n} span(s): ${p}`).join('; ');
  return { valid: { resourceSpans, spanCount: req.spanCount - rejected }, rejected, message };
}
