import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { registerOpsRoutes } from '@flowscope/common';
import type { Database } from '@flowscope/storage';
import type { CollectorConfig } from './config.ts';
import { createCollectorMetrics, type CollectorMetrics } from './metrics.ts';
import { InflightBytes } from './limiter.ts';
import { Redactor } from './redact.ts';
import { GroupCommitWriter } from './writer.ts';
import { ExportPipeline } from './pipeline.ts';
import { registerOtlpHttp, sendError, toFlowscopeError } from './receiver-http.ts';

export interface CollectorDeps {
  db: Database;
  config: CollectorConfig;
  logger: Logger;
  /** Shared registry (the all-in-one process serves one /metrics); a new one by default. */
  registry?: Registry;
}

export interface Collector {
  app: FastifyInstance;
  pipeline: ExportPipeline;
  writer: GroupCommitWriter;
  metrics: CollectorMetrics;
  /** Stops receiving, flushes the writer. Does not close the database (its owner does). */
  close(): Promise<void>;
}

/** Builds the collector without listening: main.ts listens, tests use app.inject(). */
export function buildCollector(deps: CollectorDeps): Collector {
  const { config, db } = deps;
  const logger = deps.logger.child({ component: 'collector' });
  const metrics = createCollectorMetrics(deps.registry ?? new Registry());
  const limiter = new InflightBytes(config.FLOWSCOPE_MAX_INFLIGHT_BYTES, config.FLOWSCOPE_RETRY_AFTER_SECONDS, (n) =>
    metrics.inflightBytes.set(n),
  );
  const writer = new GroupCommitWriter(
    db,
    {
      maxBatchSpans: config.FLOWSCOPE_WRITER_MAX_BATCH_SPANS,
      maxQueueSpans: config.FLOWSCOPE_WRITER_MAX_QUEUE_SPANS,
      lingerMs: config.FLOWSCOPE_WRITER_LINGER_MS,
      retryAfterSeconds: config.FLOWSCOPE_RETRY_AFTER_SECONDS,
    },
    metrics,
    logger.child({ stage: 'writer' }),
  );
  const pipeline = new ExportPipeline({
    redactor: new Redactor(config.FLOWSCOPE_REDACT_KEYS),
    writer,
    metrics,
    logger: logger.child({ stage: 'pipeline' }),
    enabled: config.DEBUGGING_ENABLED,
  });

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One summary line per export instead of Fastify's two per request.
    logController: new LogController({ disableRequestLogging: true }),
    // The OTLP receiver enforces its own limits while streaming; this is the outer guard.
    bodyLimit: config.FLOWSCOPE_MAX_BODY_BYTES,
    requestIdHeader: 'x-request-id',
  });
  // Every log line about a request carries its correlation id when the sender gave one.
  app.addHook('onRequest', async (req) => {
    const correlationId = req.headers['x-correlation-id'];
    if (typeof correlationId === 'string' && correlationId.length > 0) {
      req.log = req.log.child({ correlationId: correlationId.slice(0, 128) });
    }
  });
  app.setErrorHandler((err, req, reply) => {
    const e = toFlowscopeError(err);
    metrics.requests.inc({ transport: 'http', code: e.statusCode });
    if (e.statusCode >= 500 && !e.retryable) req.log.error({ err }, 'export failed');
    else req.log.info({ status: e.statusCode, code: e.code, reason: e.message }, 'export refused');
    return sendError(req, reply, e);
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 5, message: `no route ${req.method} ${req.url}` }));

  registerOpsRoutes(app, {
    registry: metrics.registry,
    checks: [
      {
        name: 'database',
        check: async () => {
          if (!writer.storageAvailable) throw new Error('storage unavailable');
          await db.ping();
        },
      },
    ],
  });
  registerOtlpHttp(app, { pipeline, limiter, maxBodyBytes: config.FLOWSCOPE_MAX_BODY_BYTES, metrics });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await writer.close();
    })();
    return closing;
  };
  app.addHook('onClose', async () => {
    await writer.close();
  });
  return { app, pipeline, writer, metrics, close };
}
