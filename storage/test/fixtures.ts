import type { SpanRecord, ErrorRecord } from '../src/index.ts';

const NS = 1_000_000n;

/** A span with sensible defaults; `startMs` is milliseconds since the epoch. */
export function span(over: Partial<SpanRecord> & { startMs?: number; durationMs?: number } = {}): SpanRecord {
  const { startMs = Date.now(), durationMs = 10, ...rest } = over;
  const start = BigInt(Math.round(startMs)) * NS;
  return {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: null,
    workflowId: 'wf-1',
    workflowType: 'checkout',
    layer: 'api',
    component: 'api-gateway',
    name: 'POST /checkout',
    kind: 2,
    statusCode: 0,
    statusMessage: null,
    isError: false,
    startUnixNano: start,
    endUnixNano: start + BigInt(Math.round(durationMs * 1e6)),
    userId: null,
    scopeName: null,
    attributes: {},
    resource: { 'service.name': 'api-gateway' },
    events: [],
    links: [],
    ...rest,
  };
}

export function errorRecord(over: Partial<ErrorRecord> = {}): ErrorRecord {
  return {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    seq: 0,
    correlationId: 'wf-1',
    workflowType: 'checkout',
    layer: 'api',
    component: 'api-gateway',
    spanName: 'POST /checkout',
    severity: 'error',
    errorType: 'Error',
    message: 'boom',
    stack: null,
    occurredUnixNano: BigInt(Date.now()) * NS,
    attributes: {},
    ...over,
  };
}

export const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
