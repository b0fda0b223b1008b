import { deflateSync, gzipSync } from 'node:zlib';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { makeBatch, prng, serialize } from '../lib/workload.ts';

/**
 * Hostile inputs for the soak, generated from a seed: every kind is a function of a PRNG, so a
 * failing input can be found again from the seed and its index.
 */
export type Transport = 'http' | 'grpc' | 'http-slow' | 'http-abort';

export interface BadInput {
  kind: string;
  transport: Transport;
  contentType?: string;
  contentEncoding?: string;
  body: Buffer;
}

const MiB = 1024 * 1024;

const validProto = (rand: () => number): Buffer => serialize(makeBatch(rand, 1 + Math.floor(rand() * 8), Date.now()));
const validJsonObject = (rand: () => number): Record<string, unknown> => {
  const bytes = JsonTraceSerializer.serializeRequest(makeBatch(rand, 1 + Math.floor(rand() * 8), Date.now()).flatMap((t) => t.spans));
  return JSON.parse(Buffer.from(bytes!).toString('utf8')) as Record<string, unknown>;
};

const randomBytesFrom = (rand: () => number, n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
};

const truncate = (rand: () => number, b: Buffer): Buffer => b.subarray(0, Math.floor(rand() * b.length));

const flipBits = (rand: () => number, b: Buffer): Buffer => {
  const c = Buffer.from(b);
  const flips = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < flips; i++) c[Math.floor(rand() * c.length)]! ^= 1 << Math.floor(rand() * 8);
  return c;
};

/** The first span of a JSON request, to make hostile. */
const firstSpan = (o: Record<string, unknown>): Record<string, unknown> =>
  ((o.resourceSpans as { scopeSpans: { spans: Record<string, unknown>[] }[] }[])[0]!.scopeSpans[0]!.spans[0])!;

const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));

const WRONG_VALUES: unknown[] = [null, 42, -1, 1.5, 'x', '', true, [], {}, [1, 2], { a: 1 }, '1e400', 'NaN', -0, 2 ** 64];

/** A value nested `depth` levels deep in OTLP AnyValue form, as JSON text (too deep for JSON.stringify). */
function nestedJson(depth: number, asArray: boolean): string {
  const open = asArray ? '{"arrayValue":{"values":[' : '{"kvlistValue":{"values":[{"key":"k","value":';
  const close = asArray ? ']}}' : '}]}}';
  return open.repeat(depth) + '{"stringValue":"leaf"}' + close.repeat(depth);
}

export const KINDS: Record<string, (rand: () => number, maxBodyBytes: number) => BadInput> = {
  'protobuf garbage': (rand) => ({ kind: '', transport: 'http', contentType: 'application/x-protobuf', body: randomBytesFrom(rand, Math.floor(rand() * 4096)) }),
  'json garbage': (rand) => ({ kind: '', transport: 'http', contentType: 'application/json', body: randomBytesFrom(rand, Math.floor(rand() * 4096)) }),
  'protobuf truncated': (rand) => ({ kind: '', transport: 'http', contentType: 'application/x-protobuf', body: truncate(rand, validProto(rand)) }),
  'protobuf bit-flipped': (rand) => ({ kind: '', transport: 'http', contentType: 'application/x-protobuf', body: flipBits(rand, validProto(rand)) }),
  'json truncated': (rand) => ({ kind: '', transport: 'http', contentType: 'application/json', body: truncate(rand, json(validJsonObject(rand))) }),
  'json bit-flipped': (rand) => ({ kind: '', transport: 'http', contentType: 'application/json', body: flipBits(rand, json(validJsonObject(rand))) }),
  'json wrong types': (rand) => {
    const o = validJsonObject(rand);
    const s = firstSpan(o);
    const fields = ['traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes', 'events', 'links', 'status'];
    for (let i = 0; i < 1 + Math.floor(rand() * 3); i++) s[fields[Math.floor(rand() * fields.length)]!] = WRONG_VALUES[Math.floor(rand() * WRONG_VALUES.length)];
    if (rand() < 0.3) (o.resourceSpans as unknown[])[0] = WRONG_VALUES[Math.floor(rand() * WRONG_VALUES.length)];
    return { kind: '', transport: 'http', contentType: 'application/json', body: json(o) };
  },
  'extreme sizes': (rand, max) => {
    const o = validJsonObject(rand);
    const s = firstSpan(o);
    const pick = Math.floor(rand() * 5);
    const big = 'x'.repeat(1000 + Math.floor(rand() * 200_000));
    if (pick === 0) s.name = big;
    else if (pick === 1) s.attributes = [{ key: 'workflow.id', value: { stringValue: big } }];
    else if (pick === 2) s.attributes = Array.from({ length: 5000 + Math.floor(rand() * 20_000) }, (_, i) => ({ key: `k${i}`, value: { intValue: String(i) } }));
    else if (pick === 3) s.events = Array.from({ length: 2000 + Math.floor(rand() * 5000) }, (_, i) => ({ name: `e${i}`, timeUnixNano: s.startTimeUnixNano }));
    else return { kind: '', transport: 'http', contentType: 'application/json', body: Buffer.concat([json(o), Buffer.alloc(max + 1, 32)]) };
    return { kind: '', transport: 'http', contentType: 'application/json', body: json(o) };
  },
  'extreme timestamps': (rand) => {
    const o = validJsonObject(rand);
    const s = firstSpan(o);
    const values = ['99999999999999999999999999', '-1', '0', '18446744073709551615', '9223372036854775807', 'abc', '1.5e30', '', '00000000000000000001'];
    s.startTimeUnixNano = values[Math.floor(rand() * values.length)];
    if (rand() < 0.5) s.endTimeUnixNano = values[Math.floor(rand() * values.length)];
    return { kind: '', transport: 'http', contentType: 'application/json', body: json(o) };
  },
  'deep nesting': (rand) => {
    const o = validJsonObject(rand);
    const s = firstSpan(o);
    s.attributes = [{ key: 'deep', value: '__DEEP__' }];
    const text = JSON.stringify(o).replace('"__DEEP__"', nestedJson(50 + Math.floor(rand() * 20_000), rand() < 0.5));
    return { kind: '', transport: 'http', contentType: 'application/json', body: Buffer.from(text) };
  },
  'invalid utf-8': (rand) => {
    if (rand() < 0.5) {
      // a protobuf string field with bytes that are not UTF-8: replace a name's bytes in place
      const b = validProto(rand);
      const c = Buffer.from(b);
      for (let i = 0; i < 6; i++) c[Math.floor(rand() * c.length)] = 0xc0 | Math.floor(rand() * 2);
      return { kind: '', transport: 'http', contentType: 'application/x-protobuf', body: c };
    }
    const text = JSON.stringify(validJsonObject(rand));
    const at = text.indexOf('"name":"') + 8;
    const body = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from(text.slice(at))]);
    return { kind: '', transport: 'http', contentType: 'application/json', body };
  },
  'compressed bodies, corrupt': (rand) => {
    const gz = rand() < 0.5;
    const packed = gz ? gzipSync(validProto(rand)) : deflateSync(validProto(rand));
    return { kind: '', transport: 'http', contentType: 'application/x-protobuf', contentEncoding: gz ? 'gzip' : 'deflate', body: rand() < 0.5 ? truncate(rand, packed) : flipBits(rand, packed) };
  },
  'compression bombs': (rand, max) => {
    const gz = rand() < 0.5;
    const zeros = Buffer.alloc(max + 1 + Math.floor(rand() * 8 * MiB));
    return { kind: '', transport: 'http', contentType: rand() < 0.5 ? 'application/json' : 'application/x-protobuf', contentEncoding: gz ? 'gzip' : 'deflate', body: gz ? gzipSync(zeros) : deflateSync(zeros) };
  },
  'unknown encodings and types': (rand) => {
    const types = ['text/plain', 'application/xml', '', 'application/json; charset=utf-16', 'multipart/form-data', 'application/x-protobuf; proto=foo'];
    const encodings = ['br', 'zstd', 'gzip, gzip', 'identity', 'x-unknown'];
    return rand() < 0.5
      ? { kind: '', transport: 'http', contentType: types[Math.floor(rand() * types.length)]!, body: validProto(rand) }
      : { kind: '', transport: 'http', contentType: 'application/x-protobuf', contentEncoding: encodings[Math.floor(rand() * encodings.length)]!, body: validProto(rand) };
  },
  'slow uploads': (rand) => ({ kind: '', transport: 'http-slow', contentType: 'application/x-protobuf', body: validProto(rand) }),
  'aborted uploads': (rand) => ({ kind: '', transport: 'http-abort', contentType: rand() < 0.5 ? 'application/x-protobuf' : 'application/json', contentEncoding: rand() < 0.5 ? 'gzip' : undefined, body: gzipSync(Buffer.alloc(256 * 1024)) }),
  'grpc garbage': (rand) => {
    const pick = Math.floor(rand() * 3);
    const body = pick === 0 ? randomBytesFrom(rand, Math.floor(rand() * 4096)) : pick === 1 ? truncate(rand, validProto(rand)) : flipBits(rand, validProto(rand));
    return { kind: '', transport: 'grpc', body };
  },
};

/** `total` inputs spread over every kind (at least one each), in a seeded order. */
export function generateInputs(rand: () => number, total: number, maxBodyBytes: number): Map<string, (() => BadInput)[]> {
  const names = Object.keys(KINDS);
  const per = Math.max(1, Math.floor(total / names.length));
  const out = new Map<string, (() => BadInput)[]>();
  for (const name of names) {
    const list: (() => BadInput)[] = [];
    for (let i = 0; i < per; i++) {
      const seed = Math.floor(rand() * 2 ** 32);
      list.push(() => ({ ...KINDS[name]!(prng(seed), maxBodyBytes), kind: name }));
    }
    out.set(name, list);
  }
  return out;
}

