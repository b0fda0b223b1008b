import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, type FlowscopeError } from '@flowscope/common';
import { grpcCodeFor } from './status.ts';
import type { InflightBytes, InflightLease } from './limiter.ts';
import type { ExportPipeline } from './pipeline.ts';
import type { OtlpEncoding } from './decode.ts';
import { encodeExportResponse, encodeStatus } from './otlp.ts';
import type { CollectorMetrics } from './metrics.ts';
import type { IngestAuth } from './ingest-auth.ts';

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

declare module 'fastify' {
  interface FastifyRequest {
    otlpEncoding?: OtlpEncoding;
    /** The in-flight bytes this request holds; ended when its response closes. */
    inflightLease?: InflightLease;
    /** Set once the response has closed (sent, or the connection went away). */
    responseClosed?: boolean;
    /** The name of the ingest token this request authenticated with (never the token). */
    ingestToken?: string;
  }
}

const encodingOf = (req: FastifyRequest): OtlpEncoding | undefined => {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === PROTOBUF ? 'protobuf' : type === JSON_TYPE ? 'json' : undefined;
};

/**
 * Reads a request body with every bound applied while it streams: the compressed size, the
 * decompressed size (a gzip bomb is cut off at the limit, never inflated whole) and the
 * collector-wide in-flight bytes, taken through the request's lease. Compressed bytes are held
 * until decompression has finished (or failed); the decompressed body is held by the caller,
 * who ends the lease when the response has closed. On failure nothing is kept, so the caller
 * ends the lease at once.
 */
export function readBody(
  req: FastifyRequest,
  payload: Readable,
  options: { maxBytes: number; lease: InflightLease },
): Promise<Buffer> {
  const { lease } = options;
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
    let rawHeld = 0;
    let total = 0;
    let done = false;
    const giveBackCompressed = () => {
      lease.give(rawHeld);
      rawHeld = 0;
    };
    const fail = (err: unknown) => {
      if (done) return;
      done = true;
      if (source !== payload) {
        source.destroy();
        giveBackCompressed();
      }
      chunks.length = 0;
      payload.resume(); // drain the socket so the error response can be written
      reject(err);
    };
    if (source !== payload) {
      payload.on('data', (c: Buffer) => {
        if (done) return;
        raw += c.length;
        try {
          if (raw > options.maxBytes) throw errors.bodyTooLarge(options.maxBytes);
          lease.take(c.length);
          rawHeld += c.length;
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
        lease.take(c.length);
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
    let payloadEnded = false;
    payload.on('end', () => (payloadEnded = true));
    // A client that goes away mid-body: no 'end', only 'close'.
    payload.on('close', () => {
      if (!payloadEnded) fail(errors.badRequest('request aborted before its body was complete'));
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      if (source !== payload) giveBackCompressed();
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

export function registerOtlpHttp(
  app: FastifyInstance,
  deps: { pipeline: ExportPipeline; limiter: InflightBytes; maxBodyBytes: number; metrics: CollectorMetrics; auth?: IngestAuth },
): void {
  app.removeAllContentTypeParsers();
  // The body's bytes are held until the response has closed (sent, or the client went away);
  // the request's own 'close' comes earlier (when its body has been read), so it is not used.
  app.addHook('onRequest', async (req, reply) => {
    reply.raw.once('close', () => {
      req.responseClosed = true;
      req.inflightLease?.end();
    });
  });
  app.addContentTypeParser([PROTOBUF, JSON_TYPE], (req, payload, done) => {
    req.otlpEncoding = encodingOf(req);
    try {
      deps.limiter.admit();
    } catch (err) {
      payload.resume();
      done(err as Error, undefined);
      return;
    }
    const lease = deps.limiter.lease();
    req.inflightLease = lease;
    readBody(req, payload, { maxBytes: deps.maxBodyBytes, lease }).then(
      (body) => {
        if (req.responseClosed) lease.end(); // nobody is left to answer
        done(null, body);
      },
      (err: Error) => {
        lease.end(); // a refused body keeps nothing
        done(err, undefined);
      },
    );
  });

  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/v1/traces',
    handler: async (_req, reply) => reply.code(405).header('allow', 'POST').send({ code: 12, message: 'use POST to export traces' }),
  });

  // Ingest authentication and the per-token rate limit run before the body is read, so a
  // refused request never takes in-flight memory.
  const authenticate = async (req: FastifyRequest): Promise<void> => {
    if (!deps.auth?.enabled) return;
    req.otlpEncoding = encodingOf(req); // the refusal is written in the request's encoding
    const name = await deps.auth.check(req.headers.authorization);
    if (name !== undefined) {
      req.ingestToken = name;
      req.log = req.log.child({ ingestToken: name });
    }
  };

  app.post('/v1/traces', { onRequest: authenticate }, async (req, reply) => {
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
