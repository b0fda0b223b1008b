import type { ErrorRecord, SpanRecord } from '@flowscope/storage';
import { nanosToIso } from '@flowscope/storage';
import { SPAN_KIND, STATUS_CODE, type DecodedExport, type DecodedSpan } from './model.ts';

export const LAYERS = ['frontend', 'api', 'service', 'database', 'cache', 'queue', 'external'] as const;
export type Layer = (typeof LAYERS)[number];

const CACHE_SYSTEMS = new Set(['redis', 'memcached', 'valkey', 'hazelcast', 'ignite', 'coherence']);

const s = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 ? v : typeof v === 'number' ? String(v) : undefined;

/** First string of a header attribute (semconv records request headers as string arrays). */
const header = (v: unknown): string | undefined => (Array.isArray(v) ? s(v[0]) : s(v));

const isHttp = (a: Record<string, unknown>) =>
  'http.method' in a || 'http.request.method' in a || 'http.route' in a || 'http.url' in a || 'url.full' in a;

/**
 * The span's layer: app.layer when it names a known layer, else inferred as docs/architecture.md describes:
 * db.system → database (cache for key-value stores), messaging → queue, browser SDK →
 * frontend, SERVER http span → api, CLIENT http span → external, else service.
 */
export function inferLayer(span: DecodedSpan, resource: Record<string, unknown>): Layer {
  const explicit = s(span.attributes['app.layer']) ?? s(resource['app.layer']);
  if (explicit && (LAYERS as readonly string[]).includes(explicit)) return explicit as Layer;
  const a = span.attributes;
  const db = s(a['db.system']) ?? s(a['db.system.name']);
  if (db) return CACHE_SYSTEMS.has(db.toLowerCase()) ? 'cache' : 'database';
  if ('messaging.system' in a) return 'queue';
  if (s(resource['telemetry.sdk.language']) === 'webjs' || s(resource['browser.platform']) || s(resource['browser.brands']))
    return 'frontend';
  if (isHttp(a) && span.kind === SPAN_KIND.server) return 'api';
  if (isHttp(a) && span.kind === SPAN_KIND.client) return 'external';
  return 'service';
}

/** A span's own correlation id candidate, by the fallback order of docs/architecture.md. */
function ownWorkflowId(a: Record<string, unknown>): string | undefined {
  return (
    s(a['workflow.id']) ??
    s(a['correlation_id']) ??
    s(a['correlation.id']) ??
    header(a['http.request.header.x-correlation-id']) ??
    header(a['http.request.header.x_correlation_id'])
  );
}

/**
 * What the collector learned recently about each trace's workflow, so that a span exported
 * in a later request by a service that does not tag its spans still joins the workflow of its
 * trace. Bounded (least recently used entries go first). Per replica: with several replicas,
 * route by trace id or tag every span (the instrumentation package does, through baggage).
 */
export interface TraceWorkflow {
  id?: string;
  type?: string;
}

/** Where replicas share what they learned about traces (Redis); best effort both ways. */
export interface SharedTraceStore {
  remember(entries: ReadonlyArray<[string, TraceWorkflow]>): void;
  recall(traceIds: readonly string[]): Promise<Map<string, TraceWorkflow>>;
}

export class TraceWorkflowCache {
  private readonly map = new Map<string, TraceWorkflow>();
  private learned: Array<[string, TraceWorkflow]> = [];
  constructor(
    private readonly max = 100_000,
    private readonly shared?: SharedTraceStore,
  ) {}

  /**
   * Before mapping a request: asks the other replicas about traces whose spans here carry no
   * workflow id and that this replica has not seen.
   */
  get shares(): boolean {
    return this.shared !== undefined;
  }

  async prefetch(traceIds: readonly string[]): Promise<void> {
    if (!this.shared) return;
    const unknown = traceIds.filter((t) => !this.map.get(t)?.id);
    if (unknown.length === 0) return;
    for (const [traceId, v] of await this.shared.recall(unknown)) this.store(traceId, v);
  }

  /** After mapping: tells the other replicas what this request taught us. */
  share(): void {
    if (this.shared && this.learned.length > 0) this.shared.remember(this.learned);
    this.learned = [];
  }

  get(traceId: string): { id?: string; type?: string } | undefined {
    const v = this.map.get(traceId);
    if (v) {
      this.map.delete(traceId);
      this.map.set(traceId, v);
    }
    return v;
  }

  learn(traceId: string, id: string | undefined, type: string | undefined): void {
    if (!id && !type) return;
    const before = this.map.get(traceId);
    const v = this.store(traceId, { ...(id ? { id } : {}), ...(type ? { type } : {}) });
    if (this.shared && (before?.id !== v.id || before?.type !== v.type)) this.learned.push([traceId, { ...v }]);
  }

  private store(traceId: string, learned: TraceWorkflow): TraceWorkflow {
    const v = this.map.get(traceId) ?? {};
    v.id ??= learned.id;
    v.type ??= learned.type;
    this.map.delete(traceId);
    this.map.set(traceId, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
    return v;
  }

  get size(): number {
    return this.map.size;
  }
}

/** Traces of which no span in the request carries a workflow id (candidates to ask replicas about). */
export function tracesWithoutWorkflowId(req: DecodedExport): string[] {
  const tagged = new Set<string>();
  const all = new Set<string>();
  for (const rs of req.resourceSpans)
    for (const ss of rs.scopeSpans)
      for (const span of ss.spans) {
        all.add(span.traceId);
        if (ownWorkflowId(span.attributes)) tagged.add(span.traceId);
      }
  return [...all].filter((t) => !tagged.has(t));
}

export interface MappedBatch {
  spans: SpanRecord[];
  errors: ErrorRecord[];
  traceIds: string[];
}

/**
 * Maps decoded, validated and redacted spans to rows. Workflow type and id that a span lacks
 * are inherited from other spans of the same trace in the request (a service that does not
 * tag its spans still joins the workflow of the trace it is part of).
 */
export function mapExport(req: DecodedExport, cache?: TraceWorkflowCache): MappedBatch {
  const traceType = new Map<string, string>();
  const traceWorkflow = new Map<string, string>();
  for (const rs of req.resourceSpans) {
    const resType = s(rs.resource['workflow.type']);
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const type = s(span.attributes['workflow.type']) ?? resType;
        if (type && !traceType.has(span.traceId)) traceType.set(span.traceId, type);
        const id = ownWorkflowId(span.attributes);
        if (id && !traceWorkflow.has(span.traceId)) traceWorkflow.set(span.traceId, id);
      }
    }
  }

  if (cache) {
    for (const traceId of new Set([...traceType.keys(), ...traceWorkflow.keys()])) {
      cache.learn(traceId, traceWorkflow.get(traceId), traceType.get(traceId));
    }
    for (const rs of req.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          if (traceType.has(span.traceId) && traceWorkflow.has(span.traceId)) continue;
          const known = cache.get(span.traceId);
          if (known?.type && !traceType.has(span.traceId)) traceType.set(span.traceId, known.type);
          if (known?.id && !traceWorkflow.has(span.traceId)) traceWorkflow.set(span.traceId, known.id);
        }
  }

  const spans: SpanRecord[] = [];
  const errors: ErrorRecord[] = [];
  for (const rs of req.resourceSpans) {
    const component = s(rs.resource['service.name']) ?? 'unknown_service';
    const resType = s(rs.resource['workflow.type']);
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        const a = span.attributes;
        const workflowType = s(a['workflow.type']) ?? resType ?? traceType.get(span.traceId) ?? 'unknown';
        const workflowId = ownWorkflowId(a) ?? traceWorkflow.get(span.traceId) ?? span.traceId;
        const layer = inferLayer(span, rs.resource);
        const isError = span.statusCode === STATUS_CODE.error;
        const record: SpanRecord = {
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId === '' ? null : span.parentSpanId,
          workflowId,
          workflowType,
          layer,
          component,
          name: span.name,
          kind: span.kind,
          statusCode: span.statusCode,
          statusMessage: span.statusMessage === '' ? null : span.statusMessage,
          isError,
          startUnixNano: span.startUnixNano,
          endUnixNano: span.endUnixNano,
          userId: s(a['enduser.id']) ?? s(a['user.id']) ?? null,
          scopeName: ss.scopeName === '' ? null : ss.scopeName,
          attributes: a,
          resource: rs.resource,
          events: span.events.map((e) => ({ name: e.name, time: nanosToIso(e.timeUnixNano), attributes: e.attributes })),
          links: span.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: l.attributes })),
        };
        spans.push(record);

        const base = {
          traceId: span.traceId,
          spanId: span.spanId,
          correlationId: workflowId,
          workflowType,
          layer,
          component,
          spanName: span.name,
        };
        // One row per failing span (seq 0), with its (first) exception event's type, message and
        // stack merged in; exception events on a span that did not fail were handled: one
        // warning row each (seq 1…). So error_count and the error list agree. The exception's own
        // message (what was thrown) wins over the status message, which SDKs often shorten.
        const exceptions = span.events.filter((e) => e.name === 'exception');
        if (isError) {
          const first = exceptions[0]?.attributes;
          errors.push({
            ...base,
            seq: 0,
            severity: 'error',
            errorType: s(a['error.type']) ?? s(first?.['exception.type']) ?? 'Error',
            message: s(first?.['exception.message']) || span.statusMessage || span.name,
            stack: s(first?.['exception.stacktrace']) ?? null,
            occurredUnixNano: span.endUnixNano,
            attributes: first ? { ...a, ...first } : a,
          });
        } else {
          exceptions.forEach((e, i) => {
            errors.push({
              ...base,
              seq: i + 1,
              severity: 'warning',
              errorType: s(e.attributes['exception.type']) ?? 'Exception',
              message: s(e.attributes['exception.message']) ?? '',
              stack: s(e.attributes['exception.stacktrace']) ?? null,
              occurredUnixNano: e.timeUnixNano > 0n ? e.timeUnixNano : span.endUnixNano,
              attributes: e.attributes,
            });
          });
        }
      }
    }
  }
  return { spans, errors, traceIds: [...new Set(spans.map((x) => x.traceId))] };
}
