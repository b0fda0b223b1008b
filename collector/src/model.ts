/** A span as decoded from OTLP, before validation. Ids are lowercase hex (possibly invalid). */
export interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startUnixNano: bigint;
  endUnixNano: bigint;
  attributes: Record<string, unknown>;
  events: DecodedEvent[];
  links: DecodedLink[];
  statusCode: number;
  statusMessage: string;
}

export interface DecodedEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: Record<string, unknown>;
}

export interface DecodedLink {
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
}

export interface DecodedScopeSpans {
  scopeName: string;
  spans: DecodedSpan[];
}

export interface DecodedResourceSpans {
  resource: Record<string, unknown>;
  scopeSpans: DecodedScopeSpans[];
}

/** One export request after decoding. */
export interface DecodedExport {
  resourceSpans: DecodedResourceSpans[];
  spanCount: number;
}

export const SPAN_KIND = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export const STATUS_CODE = { unset: 0, ok: 1, error: 2 } as const;
