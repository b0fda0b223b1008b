import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FlowscopeError } from '@flowscope/common';
import {
  findTraceIds, listOperations, listServices, serviceDependencies, spansOfTraces, type Database, type SpanRow, type TagMatch,
} from '@flowscope/storage';
import type { QueryApiConfig } from '../config.ts';
import { badRequest, fromStorageError, notFound } from '../http.ts';

/**
 * A Jaeger-compatible query API (the HTTP JSON API of jaeger-query, `model/json`), so that
 * Grafana's built-in Jaeger data source pointed at http://HOST:8000/jaeger can search and
 * draw traces. Shapes: every answer is `{data, total, limit, offset, errors}`; ids are
 * lowercase hex (32/16 digits); times and durations are integer microseconds; a parent is a
 * CHILD_OF reference and a span link a FOLLOWS_FROM one; services live in a `processes`
 * map (p1, p2, … in order of first appearance) with resource attributes as tags; attributes
 * become typed tags; span events become logs.
 */

export interface JaegerKeyValue {
  key: string;
  type: 'string' | 'bool' | 'int64' | 'float64';
  value: string | boolean | number;
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  flags: number;
  operationName: string;
  references: { refType: 'CHILD_OF' | 'FOLLOWS_FROM'; traceID: string; spanID: string }[];
  startTime: number;
  duration: number;
  tags: JaegerKeyValue[];
  logs: { timestamp: number; fields: JaegerKeyValue[] }[];
  processID: string;
  warnings: string[] | null;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerKeyValue[] }>;
  warnings: string[] | null;
}

const envelope = <T>(data: T, total = Array.isArray(data) ? data.length : 0) => ({ data, total, limit: 0, offset: 0, errors: null });

const SPAN_KINDS: Record<number, string> = { 1: 'internal', 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };
const KIND_NUMBERS: Record<string, number> = Object.fromEntries(Object.entries(SPAN_KINDS).map(([n, k]) => [k, Number(n)]));
const STATUS: Record<number, string> = { 1: 'OK', 2: 'ERROR' };

export function keyValue(key: string, value: unknown): JaegerKeyValue {
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'number') return Number.isInteger(value) ? { key, type: 'int64', value } : { key, type: 'float64', value };
  if (typeof value === 'string') return { key, type: 'string', value };
  return { key, type: 'string', value: JSON.stringify(value) ?? '' };
}

const sortedTags = (attrs: Record<string, unknown>, skip: ReadonlySet<string> = new Set()) =>
  Object.keys(attrs)
    .filter((k) => !skip.has(k))
    .sort()
    .map((k) => keyValue(k, attrs[k]));

/** ISO-8601 with up to nanosecond digits → integer microseconds. */
export function isoToMicros(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/.exec(iso);
  if (!m) return Math.round(Date.parse(iso) * 1000);
  const seconds = Date.parse(`${m[1]}${m[3]}`);
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return seconds * 1000 + Number(frac);
}

const SERVICE_NAME = new Set(['service.name']);

/** Spans of one or more traces → Jaeger traces, in the order the trace ids are given. */
export function toJaegerTraces(rows: readonly SpanRow[], traceIds: readonly string[], truncated = false): JaegerTrace[] {
  const byTrace = new Map<string, SpanRow[]>();
  for (const r of rows) {
    let list = byTrace.get(r.trace_id);
    if (!list) byTrace.set(r.trace_id, (list = []));
    list.push(r);
  }
  const traces: JaegerTrace[] = [];
  for (const traceId of traceIds) {
    const spans = byTrace.get(traceId);
    if (!spans || spans.length === 0) continue;
    const processes: JaegerTrace['processes'] = {};
    const processIds = new Map<string, string>();
    const processOf = (r: SpanRow) => {
      const tags = sortedTags(r.resource ?? {}, SERVICE_NAME);
      const k = JSON.stringify([r.component, tags]);
      let id = processIds.get(k);
      if (!id) {
        id = `p${processIds.size + 1}`;
        processIds.set(k, id);
        processes[id] = { serviceName: r.component, tags };
      }
      return id;
    };
    const out: JaegerSpan[] = spans.map((r) => {
      const attrs = r.attributes ?? {};
      const tags = sortedTags(attrs);
      const extra: [string, unknown][] = [];
      if (!('workflow.type' in attrs)) extra.push(['workflow.type', r.workflow_type]);
      if (!('workflow.id' in attrs)) extra.push(['workflow.id', r.workflow_id]);
      if (!('app.layer' in attrs)) extra.push(['app.layer', r.layer]);
      const kind = SPAN_KINDS[r.kind];
      if (kind) extra.push(['span.kind', kind]);
      if (r.scope_name) extra.push(['otel.scope.name', r.scope_name]);
      const status = STATUS[r.status_code];
      if (status) extra.push(['otel.status_code', status]);
      if (r.status_message) extra.push(['otel.status_description', r.status_message]);
      if (r.is_error) extra.push(['error', true]);
      tags.push(...extra.map(([k, v]) => keyValue(k, v)));
      const references: JaegerSpan['references'] = [];
      if (r.parent_span_id) references.push({ refType: 'CHILD_OF', traceID: r.trace_id, spanID: r.parent_span_id });
      for (const l of r.links ?? []) references.push({ refType: 'FOLLOWS_FROM', traceID: l.traceId, spanID: l.spanId });
      const start = Math.round(Number(r.start_us));
      return {
        traceID: r.trace_id,
        spanID: r.span_id,
        flags: 1,
        operationName: r.name,
        references,
        startTime: start,
        duration: Math.max(0, Math.round(Number(r.end_us)) - start),
        tags,
        logs: (r.events ?? []).map((e) => ({
          timestamp: isoToMicros(e.time),
          fields: [keyValue('event', e.name), ...sortedTags(e.attributes ?? {})],
        })),
        processID: processOf(r),
        warnings: null,
      };
    });
    traces.push({ traceID: traceId, spans: out, processes, warnings: truncated ? ['trace truncated: too many spans'] : null });
  }
  return traces;
}

/** Go duration strings as Jaeger takes them ("1.5s", "100ms", "1m30s", "250us") → microseconds. */
export function parseGoDuration(s: string): number {
  const units: Record<string, number> = { ns: 0.001, us: 1, µs: 1, μs: 1, ms: 1000, s: 1e6, m: 6e7, h: 3.6e9 };
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed = re.lastIndex;
  }
  if (s.length === 0 || consumed !== s.length || !Number.isFinite(total)) throw badRequest(`"${s.slice(0, 40)}" is not a duration such as 250ms or 1.5s`);
  return total;
}

const normaliseTraceId = (id: string) => {
  if (!/^[0-9a-fA-F]{1,32}$/.test(id)) throw badRequest('trace id must be 1 to 32 hex digits');
  return id.toLowerCase().padStart(32, '0');
};

interface SearchQuery {
  service?: string;
  operation?: string;
  tags?: string;
  tag?: string | string[];
  start?: number;
  end?: number;
  lookback?: string;
  minDuration?: string;
  maxDuration?: string;
  limit?: number;
  traceID?: string | string[];
}

const MAX_TAGS = 20;

/** Tags matched on dedicated columns; anything else is looked up in span then resource attributes. */
function tagMatch(key: string, value: string): TagMatch {
  switch (key) {
    case 'workflow.type':
      return { column: 'workflow_type', value };
    case 'workflow.id':
      return { column: 'workflow_id', value };
    case 'app.layer':
      return { column: 'layer', value };
    case 'error':
      return { column: 'is_error', value: value === 'true' };
    case 'span.kind':
      return { column: 'kind', value: KIND_NUMBERS[value] ?? -1 };
    case 'otel.status_code':
      return { column: 'status_code', value: value === 'ERROR' ? 2 : value === 'OK' ? 1 : value === 'UNSET' ? 0 : -1 };
    default:
      return { attribute: key, value };
  }
}

function parseTags(q: SearchQuery): [string, string][] {
  const out: [string, string][] = [];
  if (q.tags !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(q.tags);
    } catch {
      throw badRequest('tags must be a JSON object of key → value');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw badRequest('tags must be a JSON object of key → value');
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw badRequest(`tag ${k.slice(0, 40)} must have a scalar value`);
      out.push([k, String(v)]);
    }
  }
  for (const t of [q.tag ?? []].flat()) {
    const i = t.indexOf(':');
    if (i <= 0) throw badRequest('tag must be key:value');
    out.push([t.slice(0, i), t.slice(i + 1)]);
  }
  if (out.length > MAX_TAGS) throw badRequest(`at most ${MAX_TAGS} tags`);
  for (const [k, v] of out) {
    if (k.length > 256 || v.length > 1024) throw badRequest('tag key or value too long');
    if (k.includes('\u0000') || v.includes('\u0000')) throw badRequest('NUL characters are not allowed in tags');
  }
  return out;
}

interface JaegerDeps {
  db: Database;
  config: QueryApiConfig;
  /** Spans of the given traces as Jaeger traces (at most FLOWSCOPE_QUERY_MAX_SPANS spans). */
  loadTraces: (traceIds: string[]) => Promise<JaegerTrace[]>;
}

const openSchema = (properties: Record<string, unknown>) => ({ type: 'object', properties });
const jaegerResponse = { type: 'object', additionalProperties: true, properties: { total: { type: 'integer' }, limit: { type: 'integer' }, offset: { type: 'integer' } } };

export function jaegerRoutes(app: FastifyInstance, db: Database, config: QueryApiConfig): void {
  app.setErrorHandler(jaegerErrorHandler(config));
  const loadTraces = async (traceIds: string[]) => {
    if (traceIds.length === 0) return [];
    const { spans, truncated } = await spansOfTraces(db, traceIds, config.FLOWSCOPE_QUERY_MAX_SPANS);
    return toJaegerTraces(spans, traceIds, truncated);
  };
  const deps: JaegerDeps = { db, config, loadTraces };
  servicesRoute(app, deps);
  serviceOperationsRoute(app, deps);
  operationsRoute(app, deps);
  searchTracesRoute(app, deps);
  traceRoute(app, deps);
  dependenciesRoute(app, deps);
}

/** Errors in Jaeger's envelope: {data: null, errors: [{code, msg}]}. */
function jaegerErrorHandler(config: QueryApiConfig) {
  return (thrown: FastifyError | FlowscopeError, req: FastifyRequest, reply: FastifyReply) => {
    const err = fromStorageError(thrown, config.FLOWSCOPE_RETRY_AFTER_SECONDS);
    const status =
      err instanceof FlowscopeError ? err.statusCode : err.validation ? 400 : (err.statusCode ?? 500) >= 400 ? (err.statusCode ?? 500) : 500;
    if (status >= 500) req.log.error({ err }, 'jaeger api request failed');
    const msg = status >= 500 && !(err instanceof FlowscopeError && err.expose) ? 'internal error' : err.message;
    if (err instanceof FlowscopeError && err.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.options.retryAfterSeconds));
    return reply.code(status).send({ data: null, total: 0, limit: 0, offset: 0, errors: [{ code: status, msg }] });
  };
}

function servicesRoute(app: FastifyInstance, { db }: JaegerDeps): void {
  app.get(
    '/api/services',
    { schema: { tags: ['jaeger'], summary: 'Service names (span components)', response: { 200: jaegerResponse } } },
    async () => envelope(await listServices(db)),
  );
}

function serviceOperationsRoute(app: FastifyInstance, { db }: JaegerDeps): void {
  app.get<{ Params: { service: string } }>(
    '/api/services/:service/operations',
    {
      schema: {
        tags: ['jaeger'],
        summary: 'Operation names of a service',
        params: { type: 'object', required: ['service'], properties: { service: { type: 'string', minLength: 1, maxLength: 256 } } },
        response: { 200: jaegerResponse },
      },
    },
    async (req) => envelope([...new Set((await listOperations(db, req.params.service)).map((r) => r.name))]),
  );
}

function operationsRoute(app: FastifyInstance, { db }: JaegerDeps): void {
  app.get<{ Querystring: { service: string; spanKind?: string } }>(
    '/api/operations',
    {
      schema: {
        tags: ['jaeger'],
        summary: 'Operations of a service with their span kind',
        querystring: {
          type: 'object',
          required: ['service'],
          properties: {
            service: { type: 'string', minLength: 1, maxLength: 256 },
            spanKind: { type: 'string', enum: ['', 'internal', 'server', 'client', 'producer', 'consumer'] },
          },
        },
        response: { 200: jaegerResponse },
      },
    },
    async (req) => {
      const kind = req.query.spanKind ? KIND_NUMBERS[req.query.spanKind] : undefined;
      const rows = await listOperations(db, req.query.service, kind);
      return envelope(rows.map((r) => ({ name: r.name, spanKind: SPAN_KINDS[r.kind] ?? '' })));
    },
  );
}

function searchTracesRoute(app: FastifyInstance, { db, config, loadTraces }: JaegerDeps): void {
  app.get<{ Querystring: SearchQuery }>(
    '/api/traces',
    {
      schema: {
        tags: ['jaeger'],
        summary: 'Search traces (service, operation, tags, duration, time range, limit)',
        querystring: openSchema({
          service: { type: 'string', maxLength: 256 },
          operation: { type: 'string', maxLength: 1024 },
          tags: { type: 'string', maxLength: 16384 },
          tag: { anyOf: [{ type: 'string', maxLength: 2048 }, { type: 'array', maxItems: MAX_TAGS, items: { type: 'string', maxLength: 2048 } }] },
          start: { type: 'integer', minimum: 0, maximum: 8.64e18 },
          end: { type: 'integer', minimum: 0, maximum: 8.64e18 },
          lookback: { type: 'string', maxLength: 32 },
          minDuration: { type: 'string', maxLength: 32 },
          maxDuration: { type: 'string', maxLength: 32 },
          limit: { type: 'integer', minimum: 0, maximum: 1_000_000 },
          traceID: {
            anyOf: [
              { type: 'string', maxLength: 32 },
              { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 32 } },
            ],
          },
        }),
        response: { 200: jaegerResponse },
      },
    },
    async (req) => {
      const q = req.query;
      const ids = [q.traceID ?? []].flat().filter((t) => t !== '');
      if (ids.length > 0) return envelope(await loadTraces([...new Set(ids.map(normaliseTraceId))]));
      if (!q.service) throw badRequest('parameter "service" is required');
      const limit = Math.min(q.limit || 100, config.FLOWSCOPE_JAEGER_MAX_TRACES);
      const endUs = q.end ?? Date.now() * 1000;
      let startUs = q.start;
      if (startUs === undefined) {
        const lookback = q.lookback && q.lookback !== 'custom' ? parseLookback(q.lookback) : 3.6e9;
        startUs = endUs - lookback;
      }
      if (startUs > endUs) throw badRequest('start must not be after end');
      const toIso = (us: number) => {
        const d = new Date(Math.floor(us / 1000));
        if (!Number.isFinite(d.getTime())) throw badRequest('start/end out of range');
        return d.toISOString();
      };
      const matches = await findTraceIds(db, {
        service: q.service,
        operation: q.operation,
        startFrom: toIso(startUs),
        startTo: toIso(endUs + 999),
        minDurationMs: q.minDuration ? parseGoDuration(q.minDuration) / 1000 : undefined,
        maxDurationMs: q.maxDuration ? parseGoDuration(q.maxDuration) / 1000 : undefined,
        tags: parseTags(q).map(([k, v]) => tagMatch(k, v)),
        limit,
      });
      return envelope(await loadTraces(matches));
    },
  );
}

function traceRoute(app: FastifyInstance, { loadTraces }: JaegerDeps): void {
  app.get<{ Params: { traceID: string } }>(
    '/api/traces/:traceID',
    {
      schema: {
        tags: ['jaeger'],
        summary: 'One trace by id',
        params: { type: 'object', required: ['traceID'], properties: { traceID: { type: 'string', maxLength: 64 } } },
        response: { 200: jaegerResponse },
      },
    },
    async (req) => {
      const traces = await loadTraces([normaliseTraceId(req.params.traceID)]);
      if (traces.length === 0) throw notFound('trace');
      return envelope(traces);
    },
  );
}

function dependenciesRoute(app: FastifyInstance, { db }: JaegerDeps): void {
  app.get<{ Querystring: { endTs?: number; lookback?: number } }>(
    '/api/dependencies',
    {
      schema: {
        tags: ['jaeger'],
        summary: 'Service dependency links (parent service → child service, call count) in [endTs - lookback, endTs] (ms)',
        querystring: openSchema({
          endTs: { type: 'integer', minimum: 0, maximum: 8.64e15 },
          lookback: { type: 'integer', minimum: 1, maximum: 31 * 86_400_000 },
        }),
        response: { 200: jaegerResponse },
      },
    },
    async (req) => {
      const end = req.query.endTs ?? Date.now();
      const lookback = req.query.lookback ?? 86_400_000;
      return envelope(await serviceDependencies(db, new Date(end - lookback).toISOString(), new Date(end).toISOString()));
    },
  );
}

/** Jaeger UI lookbacks: "1h", "2d", "30m" … → microseconds. */
function parseLookback(s: string): number {
  const m = /^(\d{1,6})([smhdw])$/.exec(s);
  if (!m) throw badRequest('lookback must look like 1h or 2d');
  const unit = { s: 1e6, m: 6e7, h: 3.6e9, d: 8.64e10, w: 6.048e11 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
