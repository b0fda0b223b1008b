import { errors } from '@flowscope/common';
import { ExportTraceServiceRequest } from './otlp.ts';
import type { DecodedEvent, DecodedExport, DecodedLink, DecodedResourceSpans, DecodedSpan } from './model.ts';

export type OtlpEncoding = 'protobuf' | 'json';

/**
 * Decodes an OTLP ExportTraceServiceRequest body. Protobuf goes through the OpenTelemetry
 * project's protobufjs schema; JSON follows the OTLP/JSON mapping (hex ids, lowerCamelCase
 * keys, integer enums, 64-bit integers as strings or numbers). Throws a 400 error for a body
 * that cannot be decoded; semantic problems (bad ids, end before start) are left to validate.
 */
export function decodeExport(body: Buffer, encoding: OtlpEncoding): DecodedExport {
  if (encoding === 'protobuf') {
    let msg: unknown;
    try {
      msg = ExportTraceServiceRequest.decode(body);
    } catch (err) {
      throw errors.badRequest(`cannot decode protobuf ExportTraceServiceRequest: ${(err as Error).message}`);
    }
    return walk(msg, protoReader);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw errors.badRequest(`cannot parse JSON body: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw errors.badRequest('JSON body must be an ExportTraceServiceRequest object');
  }
  return walk(parsed, jsonReader);
}

type Obj = Record<string, unknown>;

/** The two encodings differ in how ids, 64-bit integers, bytes and enums look. */
interface Reader {
  id(v: unknown): string;
  u64(v: unknown): bigint;
  bytes(v: unknown): string;
}

const protoReader: Reader = {
  id: (v) => (v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') : ''),
  u64: (v) => {
    if (v === null || v === undefined) return 0n;
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number') return BigInt(Math.trunc(v));
    // long.js value
    return BigInt((v as { toString(): string }).toString());
  },
  bytes: (v) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : ''),
};

const jsonReader: Reader = {
  id: (v) => (typeof v === 'string' ? v.toLowerCase() : ''),
  u64: (v) => {
    if (v === null || v === undefined || v === '') return 0n;
    if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.trunc(v));
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
    throw errors.badRequest(`expected an integer, got ${JSON.stringify(v).slice(0, 40)}`);
  },
  bytes: (v) => (typeof v === 'string' ? v : ''),
};

/** Field by camelCase name, or its snake_case original (accepted by proto3 JSON parsers). */
function get(o: Obj, camel: string): unknown {
  const v = o[camel];
  if (v !== undefined) return v;
  const snake = camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return snake === camel ? undefined : o[snake];
}

const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => typeof x === 'object' && x !== null) as Obj[]) : []);
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function enumValue(v: unknown, names: Record<string, number>): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return names[v] ?? (/^\d+$/.test(v) ? Number(v) : 0);
  return 0;
}

const MAX_DEPTH = 16;

function anyValue(v: unknown, r: Reader, depth: number): unknown {
  const o = obj(v);
  if (depth > MAX_DEPTH) return null;
  if (o.stringValue !== undefined && o.stringValue !== null) return str(o.stringValue);
  if (o.boolValue !== undefined && o.boolValue !== null) return Boolean(o.boolValue);
  if (o.intValue !== undefined && o.intValue !== null) {
    const n = r.u64(o.intValue);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
  }
  if (o.doubleValue !== undefined && o.doubleValue !== null) {
    const d = Number(o.doubleValue);
    return Number.isFinite(d) ? d : String(o.doubleValue);
  }
  if (o.arrayValue !== undefined && o.arrayValue !== null) {
    return arr(obj(o.arrayValue).values).map((x) => anyValue(x, r, depth + 1));
  }
  if (o.kvlistValue !== undefined && o.kvlistValue !== null) {
    return attributes(obj(o.kvlistValue).values, r, depth + 1);
  }
  if (o.bytesValue !== undefined && o.bytesValue !== null) return r.bytes(o.bytesValue);
  return null;
}

function attributes(list: unknown, r: Reader, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of arr(list)) {
    const key = str(kv.key);
    if (key === '') continue;
    out[key] = anyValue(kv.value, r, depth);
  }
  return out;
}

function walk(root: unknown, r: Reader): DecodedExport {
  const resourceSpans: DecodedResourceSpans[] = [];
  let spanCount = 0;
  for (const rs of arr(get(obj(root), 'resourceSpans'))) {
    const resource = attributes(obj(rs.resource).attributes, r);
    const scopeSpans = [];
    for (const ss of arr(get(rs, 'scopeSpans'))) {
      const scopeName = str(obj(ss.scope).name);
      const spans: DecodedSpan[] = [];
      for (const s of arr(ss.spans)) {
        const status = obj(s.status);
        spans.push({
          traceId: r.id(get(s, 'traceId')),
          spanId: r.id(get(s, 'spanId')),
          parentSpanId: r.id(get(s, 'parentSpanId')),
          name: str(s.name),
          kind: enumValue(s.kind, SPAN_KINDS),
          startUnixNano: r.u64(get(s, 'startTimeUnixNano')),
          endUnixNano: r.u64(get(s, 'endTimeUnixNano')),
          attributes: attributes(s.attributes, r),
          events: arr(s.events).map(
            (e): DecodedEvent => ({
              timeUnixNano: r.u64(get(e, 'timeUnixNano')),
              name: str(e.name),
              attributes: attributes(e.attributes, r),
            }),
          ),
          links: arr(s.links).map(
            (l): DecodedLink => ({
              traceId: r.id(get(l, 'traceId')),
              spanId: r.id(get(l, 'spanId')),
              attributes: attributes(l.attributes, r),
            }),
          ),
          statusCode: enumValue(status.code, STATUS_CODES),
          statusMessage: str(status.message),
        });
      }
      spanCount += spans.length;
      scopeSpans.push({ scopeName, spans });
    }
    resourceSpans.push({ resource, scopeSpans });
  }
  return { resourceSpans, spanCount };
}
