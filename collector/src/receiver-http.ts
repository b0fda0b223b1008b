import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, FlowscopeError } from '@flowscope/common';
import type { InflightBytes } from './limiter.ts';
import type { ExportPipeline } from './pipeline.ts';
import type { OtlpEncoding } from './decode.ts';
import { encodeExportResponse, encodeStatus } from './otlp.ts';
import type { CollectorMetrics } from './metrics.ts';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

declare module 'fastify' {
  interface FastifyRequest {
    otlpEncoding?: OtlpEncoding;
  }
}

const encodingOf = (req: FastifyRequest): OtlpEncoding | undefined => {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === PROTOBUF ? 'protobuf' : type === JSON_TYPE ? 'json' : undefined;
};

/**
 * Reads a request body with every bound applied while it streams: the compressed size, the
 * decompressed size (a gzip bomb is cut off at the limit, never inflated whole) and the
 * collector-wide in-flight bytes. Bytes taken from the limiter are given back when the
 * response is finished (see the 'close' listener in the route).
 */
export function readBody(
  req: FastifyRequest,
  payload: Readable,
  options: { maxBytes: number; limiter: InflightBytes; onAcquire(n: number): void },
): Promise<Buffer> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    payload.resume();
    return Promise.reject(errors.bodyTooLarge(options.maxBytes));
  }
  let source: Readable = payload;
  if (encoding === 'gzip' || encoding === 'x-gzip') source = payload.pipe(createGunzip());
  else if (encoding === 'deflate') source = payload.pipe(createInflate());
  else if (encoding !== 'identity' && encoding !== '') {
    payload.resume();
    return Promise.reject(errors.unsupportedEncoding(encoding));
  }

  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let raw = 0;
    let total = 0;
    let done = false;
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      if (source !== payload) source.destroy();
      payload.resume(); // drain the socket so the error response can be written
      reject(err);
    };
    const take = (n: number) => {
      options.limiter.acquire(n);
      options.onAcquire(n);
    };
    if (source !== payload) {
      payload.on('data', (c: Buffer) => {
        raw += c.length;
        try {
          if (raw > options.maxBytes) throw errors.bodyTooLarge(options.maxBytes);
          take(c.length);
        } catch (err) {
          fail(err);
        }
      });
    }
    source.on('data', (c: Buffer) => {
      if (done) return;
      total += c.length;
      try {
        if (total > options.maxBytes) throw errors.bodyTooLarge(options.maxBytes);
        take(c.length);
      } catch (err) {
        fail(err);
        return;
      }
      chunks.push(c);
    });
    source.on('error', (err) =>
      fail(source === payload ? err : errors.badRequest(`cannot decompress ${encoding} body: ${err.message}`)),
    );
    payload.on('error', fail);
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, total));
    });
  });
}

/** Writes an OTLP error (google.rpc.Status) in the request's encoding, with Retry-After when retryable. */
export function sendError(req: FastifyRequest, reply: FastifyReply, err: FlowscopeError): FastifyReply {
  if (err.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.options.retryAfterSeconds));
  const message = err.expose ? err.message : 'internal error';
  reply.code(err.statusCode);
  if (req.otlpEncoding === 'protobuf') {
    return reply.type(PROTOBUF).send(Buffer.from(encodeStatus(grpcCodeFor(err.statusCode), message)));
  }
  return reply.type(JSON_TYPE).send({ code: grpcCodeFor(err.statusCode), message });
}

/** google.rpc.Code matching an HTTP status, as the OTLP/HTTP error body carries it. */
export function grpcCodeFor(status: number): number {
  switch (status) {
    case 400:
    case 413:
    case 415:
      return 3; // INVALID_ARGUMENT
    case 429:
      return 8; // RESOURCE_EXHAUSTED
    case 503:
      return 14; // UNAVAILABLE
    default:
      return 13; // INTERNAL
  }
}

/** Maps any thrown error (ours or Fastify's) into the catalog. */
export function toFlowscopeError(err: unknown, contentType?: string): FlowscopeError {
  if (err instanceof FlowscopeError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.unsupportedMediaType(contentType || '(none)');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new FlowscopeError('FS_BODY_TOO_LARGE', 413, 'request body too large');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new FlowscopeError('FS_BAD_REQUEST', e.statusCode, e.message ?? 'bad request');
  }
  return new FlowscopeError('FS_INTERNAL', 500, 'internal error', { cause: err });
}

export function registerOtlpHttp(
  app: FastifyInstance,
  deps: { pipeline: ExportPipeline; limiter: InflightBytes; maxBodyBytes: number; metrics: CollectorMetrics },
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([PROTOBUF, JSON_TYPE], (req, payload, done) => {
    req.otlpEncoding = encodingOf(req);
    try {
      deps.limiter.admit();
    } catch (err) {
      payload.resume();
      done(err as Error, undefined);
      return;
    }
    let taken = 0;
    // Give the bytes back once the response is gone, whatever happened in between.
    req.raw.once('close', () => deps.limiter.release(taken));
    req.otlpEncoding = encodingOf(req);
    readBody(req, payload, {
      maxBytes: deps.maxBodyBytes,
      limiter: deps.limiter,
      onAcquire: (n) => (taken += n),
    }).then(
      (body) => done(null, body),
      (err: Error) => done(err, undefined),
    );
  });

  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/v1/traces',
    handler: async (_req, reply) => reply.code(405).header('allow', 'POST').send({ code: 12, message: 'use POST to export traces' }),
  });

  app.post('/v1/traces', async (req, reply) => {
    const encoding = req.otlpEncoding ?? encodingOf(req);
    if (encoding === undefined) throw errors.unsupportedMediaType(String(req.headers['content-type'] ?? ''));
    req.otlpEncoding = encoding;
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await deps.pipeline.process(body, encoding, req.log);
    req.log.info(
      {
        spans: outcome.received,
        rejected: outcome.rejected,
        stored: outcome.write.inserted,
        duplicates: outcome.write.duplicates,
        kept: outcome.kept,
        held: outcome.held,
        traceIds: outcome.traceIds.slice(0, 10),
      },
      'export accepted',
    );
    deps.metrics.requests.inc({ transport: 'http', code: 200 });
    const message = outcome.rejected > 0 ? outcome.rejectionMessage : '';
    if (encoding === 'protobuf') {
      return reply.type(PROTOBUF).send(Buffer.from(encodeExportResponse(outcome.rejected, message)));
    }
    return reply
      .type(JSON_TYPE)
      .send(outcome.rejected > 0 ? { partialSuccess: { rejectedSpans: String(outcome.rejected), errorMessage: message } } : {});
  });
}
