import { randomBytes, randomFillSync } from 'node:crypto';
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';

/**
 * The benchmark workload: what a fleet of instrumented services exports. Traces of 4–10 spans
 * across workflow types and services (an API server span, service work, database and cache
 * calls, a third party), about ten attributes a span, 3 % of traces failing (an error span with
 * an exception event), 1 % with a span over its layer's critical threshold. Batches are encoded
 * by the OpenTelemetry JS exporter's own serializer (@opentelemetry/otlp-transformer), so the
 * bytes are what an SDK sends.
 */

export const WORKFLOW_TYPES = ['checkout', 'login', 'search', 'cart', 'payment', 'signup', 'profile', 'catalog'] as const;
export const SERVICES = ['web-bff', 'api-gateway', 'orders', 'payments', 'inventory', 'users', 'search', 'notifications'] as const;
const ROUTES: Record<string, string> = {
  checkout: 'POST /api/checkout', login: 'POST /api/login', search: 'GET /api/search', cart: 'PUT /api/cart',
  payment: 'POST /api/payments', signup: 'POST /api/users', profile: 'GET /api/users/:id', catalog: 'GET /api/products',
};
export const ERROR_TRACE_SHARE = 0.03;
export const SLOW_TRACE_SHARE = 0.01;

/** A seeded PRNG (mulberry32) so runs generate the same shapes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
const resources = new Map<string, Resource>();
const resourceOf = (service: string): Resource => {
  let r = resources.get(service);
  if (!r) {
    r = resourceFromAttributes({
      'service.name': service,
      'service.version': '1.4.2',
      'deployment.environment': 'production',
      'host.name': `${service}-7f9c4d-x2k`,
      'telemetry.sdk.language': 'nodejs',
    });
    resources.set(service, r);
  }
  return r;
};

interface SpanPlan {
  name: string;
  kind: SpanKind;
  service: string;
  offsetMs: number;
  durationMs: number;
  parent: number | null;
  attributes: Attributes;
  error?: boolean;
}

export interface GeneratedTrace {
  traceId: string;
  workflowId: string;
  workflowType: string;
  spans: ReadableSpan[];
}

/** One trace of the workload, ending about at `endMs`. */
export function makeTrace(rand: () => number, endMs: number, traceId = randomBytes(16).toString('hex')): GeneratedTrace {
  const type = WORKFLOW_TYPES[Math.floor(rand() * WORKFLOW_TYPES.length)]!;
  const workflowId = `wf-${traceId}`;
  const user = `user-${Math.floor(rand() * 50_000)}`;
  const failing = rand() < ERROR_TRACE_SHARE;
  const slow = !failing && rand() < SLOW_TRACE_SHARE;
  const service = SERVICES[2 + Math.floor(rand() * (SERVICES.length - 2))]!;
  const common = (extra: Attributes): Attributes => ({ 'workflow.type': type, 'workflow.id': workflowId, 'enduser.id': user, ...extra });
  const plans: SpanPlan[] = [];
  const total = 20 + rand() * 180;
  plans.push({
    name: ROUTES[type]!, kind: SpanKind.SERVER, service: 'api-gateway', offsetMs: 0, durationMs: total, parent: null,
    attributes: common({ 'http.request.method': ROUTES[type]!.split(' ')[0]!, 'http.route': ROUTES[type]!.split(' ')[1]!, 'url.scheme': 'https', 'server.address': 'shop.example.com', 'http.response.status_code': failing ? 500 : 200, 'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64)', 'client.address': '10.0.12.7' }),
  });
  plans.push({
    name: `${service}.handle`, kind: SpanKind.INTERNAL, service, offsetMs: 2, durationMs: total - 4, parent: 0,
    attributes: common({ 'code.function': 'handle', 'code.namespace': `${service}.controller`, 'app.layer': 'service', 'thread.name': 'main', 'app.request.size': Math.floor(rand() * 4000), 'app.feature_flag': 'new-pricing', 'app.region': 'eu-west-1' }),
  });
  const extra = 2 + Math.floor(rand() * 7);
  for (let i = 0; i < extra; i++) {
    const at = 3 + (i * (total - 8)) / extra;
    const r = rand();
    if (r < 0.55) {
      plans.push({
        name: 'SELECT orders', kind: SpanKind.CLIENT, service, offsetMs: at, durationMs: 0.5 + rand() * 20, parent: 1,
        attributes: common({ 'db.system': 'postgresql', 'db.name': 'shop', 'db.operation': 'SELECT', 'db.statement': 'SELECT id, total, status FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20', 'server.address': 'pg-primary', 'server.port': 5432, 'db.user': 'shop' }),
      });
    } else if (r < 0.8) {
      plans.push({
        name: 'GET', kind: SpanKind.CLIENT, service, offsetMs: at, durationMs: 0.1 + rand() * 2, parent: 1,
        attributes: common({ 'db.system': 'redis', 'db.operation': 'GET', 'db.statement': 'GET session:*', 'server.address': 'redis-0', 'server.port': 6379, 'net.transport': 'ip_tcp', 'db.redis.database_index': 0 }),
      });
    } else {
      plans.push({
        name: 'POST', kind: SpanKind.CLIENT, service, offsetMs: at, durationMs: 5 + rand() * 60, parent: 1,
        attributes: common({ 'http.request.method': 'POST', 'url.full': 'https://api.partner.example/v2/quote', 'server.address': 'api.partner.example', 'http.response.status_code': 200, 'network.protocol.version': '1.1', 'peer.service': 'partner-quotes', 'http.request.body.size': 512 }),
      });
    }
  }
  if (failing) plans[2 + Math.floor(rand() * extra)]!.error = true;
  if (slow) plans[2]!.durationMs = 150 + rand() * 300; // over the database / external critical threshold
  const startMs = endMs - total;
  const ids = plans.map(() => randomBytes(8).toString('hex'));
  const spans = plans.map((p, i): ReadableSpan => {
    const start = startMs + p.offsetMs;
    const events: TimedEvent[] = p.error
      ? [{ name: 'exception', time: hr(start + p.durationMs), attributes: { 'exception.type': 'TimeoutError', 'exception.message': 'upstream timed out after 30s', 'exception.stacktrace': 'TimeoutError: upstream timed out\n    at Socket.<anonymous> (/app/client.js:88:13)' }, droppedAttributesCount: 0 }]
      : [];
    const parent = p.parent === null ? undefined : { traceId, spanId: ids[p.parent]!, traceFlags: TraceFlags.SAMPLED };
    return {
      name: p.name,
      kind: p.kind,
      spanContext: () => ({ traceId, spanId: ids[i]!, traceFlags: TraceFlags.SAMPLED }),
      ...(parent ? { parentSpanContext: parent } : {}),
      startTime: hr(start),
      endTime: hr(start + p.durationMs),
      duration: hr(p.durationMs),
      status: p.error ? { code: SpanStatusCode.ERROR, message: 'upstream timed out' } : { code: SpanStatusCode.UNSET },
      attributes: p.attributes,
      links: [],
      events,
      ended: true,
      resource: resourceOf(p.service),
      instrumentationScope: { name: '@opentelemetry/instrumentation-http', version: '0.200.0' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
  return { traceId, workflowId, workflowType: type, spans };
}

/** Whole traces up to `spanCount` spans (the last trace may be cut short to fit exactly). */
export function makeBatch(rand: () => number, spanCount: number, endMs: number): GeneratedTrace[] {
  const traces: GeneratedTrace[] = [];
  let n = 0;
  while (n < spanCount) {
    const t = makeTrace(rand, endMs - rand() * 1000);
    if (n + t.spans.length > spanCount) t.spans = t.spans.slice(0, spanCount - n);
    n += t.spans.length;
    traces.push(t);
  }
  return traces;
}

export function serialize(traces: readonly GeneratedTrace[]): Buffer {
  const bytes = ProtobufTraceSerializer.serializeRequest(traces.flatMap((t) => t.spans));
  if (!bytes) throw new Error('the OTLP serializer returned nothing');
  return Buffer.from(bytes);
}

/**
 * A serialized batch whose trace ids (and the workflow ids derived from them) can be replaced
 * in place, so a load generator sends fresh traces on every request without re-encoding: the
 * bytes stay exactly what the serializer produced, only the 16 id bytes and the 32 hex digits
 * of each trace change.
 */
export class BatchTemplate {
  readonly body: Buffer;
  readonly spanCount: number;
  private readonly binary: number[][] = [];
  private readonly hex: number[][] = [];
  private readonly fresh: Buffer;

  constructor(traces: readonly GeneratedTrace[]) {
    this.body = serialize(traces);
    this.spanCount = traces.reduce((n, t) => n + t.spans.length, 0);
    for (const t of traces) {
      this.binary.push(offsetsOf(this.body, Buffer.from(t.traceId, 'hex')));
      this.hex.push(offsetsOf(this.body, Buffer.from(t.traceId, 'latin1')));
    }
    this.fresh = Buffer.alloc(16 * traces.length);
  }

  /** Gives every trace of the batch a new random id; returns the body (the same buffer). */
  renew(): Buffer {
    randomFillSync(this.fresh);
    for (let i = 0; i < this.binary.length; i++) {
      const id = this.fresh.subarray(i * 16, i * 16 + 16);
      for (const off of this.binary[i]!) id.copy(this.body, off);
      const hex = id.toString('hex');
      for (const off of this.hex[i]!) this.body.write(hex, off, 'latin1');
    }
    return this.body;
  }
}

function offsetsOf(haystack: Buffer, needle: Buffer): number[] {
  const out: number[] = [];
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}
