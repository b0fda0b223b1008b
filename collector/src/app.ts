import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { errors, registerOpsRoutes, type EventBus, type WorkflowEvent } from '@flowscope/common';
import type { SessionTransition, WriteResult } from '@flowscope/storage';
import { startGrpcReceiver, type GrpcReceiver } from './receiver-grpc.ts';
import { TraceWorkflowCache } from './map.ts';
import type { Database } from '@flowscope/storage';
import { randomUUID } from 'node:crypto';
import { pruneReceipts } from '@flowscope/storage';
import { criticalMsFor, type CollectorConfig } from './config.ts';
import { TailSampler } from './sampler.ts';
import { SpanPrometheusMetrics } from './spanmetrics.ts';
import { RedisDecisionBridge } from './decisions.ts';
import { createCollectorMetrics, type CollectorMetrics } from './metrics.ts';
import { InflightBytes } from './limiter.ts';
import { Redactor } from './redact.ts';
import { registerCors } from './cors.ts';
import { GroupCommitWriter } from './writer.ts';
import { ExportPipeline } from './pipeline.ts';
import { OperationCatalog } from './opstats.ts';
import { registerOtlpHttp, sendError } from './receiver-http.ts';
import { IngestAuth } from './ingest-auth.ts';
import { toFlowscopeError } from './status.ts';

export interface CollectorDeps {
  db: Database;
  config: CollectorConfig;
  logger: Logger;
  /** Shared registry (the all-in-one process serves one /metrics); a new one by default. */
  registry?: Registry;
  /** Where workflow lifecycle events go (the live stream); none by default. */
  events?: EventBus;
}

export interface Collector {
  app: FastifyInstance;
  pipeline: ExportPipeline;
  writer: GroupCommitWriter;
  metrics: CollectorMetrics;
  sampler: TailSampler;
  /** Resolves when background connections (Redis decisions) are up. */
  ready: Promise<void>;
  /** Starts the OTLP/gRPC receiver on host:port (0 = any free port); resolves to the bound port. */
  listenGrpc(options: { host: string; port: number }): Promise<number>;
  /** Stops receiving, flushes the writer. Does not close the database (its owner does). */
  close(): Promise<void>;
}

/** Builds the collector without listening: main.ts listens, tests use app.inject(). */
export function buildCollector(deps: CollectorDeps): Collector {
  const { config, db } = deps;
  const logger = deps.logger.child({ component: 'collector' });
  const metrics = createCollectorMetrics(deps.registry ?? new Registry());
  const limiter = new InflightBytes(
    config.FLOWSCOPE_MAX_INFLIGHT_BYTES,
    config.FLOWSCOPE_RETRY_AFTER_SECONDS,
    (n) => metrics.inflightBytes.set(n),
    config.FLOWSCOPE_MAX_HEAP_MB * 1024 * 1024,
  );
  const writer = new GroupCommitWriter(
    db,
    {
      maxBatchSpans: config.FLOWSCOPE_WRITER_MAX_BATCH_SPANS,
      maxQueueSpans: config.FLOWSCOPE_WRITER_MAX_QUEUE_SPANS,
      lingerMs: config.FLOWSCOPE_WRITER_LINGER_MS,
      concurrency: config.FLOWSCOPE_WRITER_CONCURRENCY,
      retryAfterSeconds: config.FLOWSCOPE_RETRY_AFTER_SECONDS,
      foldIntervalMs: config.FLOWSCOPE_BASELINES_FOLD_INTERVAL_MS,
      foldMaxRows: config.FLOWSCOPE_BASELINES_FOLD_MAX_ROWS,
      foldAfterRows: config.FLOWSCOPE_BASELINES_FOLD_AFTER_ROWS,
    },
    metrics,
    logger.child({ stage: 'writer' }),
    (result: WriteResult) => {
      if (!deps.events || !result.transitions?.length) return;
      for (const event of workflowEvents(result.transitions)) {
        deps.events.publish(event).catch((err: unknown) => logger.warn({ err: String(err) }, 'could not publish a workflow event'));
      }
    },
  );
  const sampler = new TailSampler({
    rate: config.DEBUGGING_TRACE_SAMPLING_RATE,
    rates: config.FLOWSCOPE_SAMPLING_RATES,
    criticalMs: criticalMsFor(config),
    decisionWaitMs: config.FLOWSCOPE_SAMPLING_DECISION_WAIT_MS,
    maxHeldSpans: config.FLOWSCOPE_SAMPLING_HOLD_MAX_SPANS,
    maxHeldBytes: config.FLOWSCOPE_SAMPLING_HOLD_MAX_BYTES,
  });
  let evictionWarned = false;
  sampler.onReleased = (n, why) => {
    metrics.sampledOut.inc({ why }, n);
    if (why === 'evicted' && !evictionWarned) {
      evictionWarned = true; // one warning, the counter has the rest
      logger.warn({ spans: n }, 'sampling hold is full: letting go of the oldest held traces (flowscope_spans_sampled_out_total{why="evicted"})');
    }
  };
  const spanMetrics = new SpanPrometheusMetrics(metrics.registry, config.FLOWSCOPE_METRICS_MAX_WORKFLOW_TYPES, db);
  const pipeline: ExportPipeline = new ExportPipeline({
    redactor: new Redactor(config.FLOWSCOPE_REDACT_KEYS, { values: config.FLOWSCOPE_REDACT_VALUES, patterns: config.FLOWSCOPE_REDACT_VALUE_PATTERNS }),
    limits: { maxIdChars: config.FLOWSCOPE_MAX_ID_CHARS, maxNameChars: config.FLOWSCOPE_MAX_NAME_CHARS },
    writer,
    sampler,
    spanMetrics,
    metrics,
    logger: logger.child({ stage: 'pipeline' }),
    enabled: config.DEBUGGING_ENABLED,
    performanceMonitoring: config.DEBUGGING_PERFORMANCE_MONITORING,
    ...(config.FLOWSCOPE_BASELINES_ENABLED ? { operations: new OperationCatalog(config.FLOWSCOPE_BASELINE_MAX_OPERATIONS) } : {}),
    errorLogging: config.DEBUGGING_ERROR_LOGGING,
    shareKeep: (ids: string[]) => bridge?.publish(ids),
    // With Redis, replicas share what they learn about each trace's workflow.
    traceCache: new TraceWorkflowCache(
      config.FLOWSCOPE_TRACE_CACHE_SIZE,
      config.REDIS_URL
        ? { remember: (entries) => bridge?.remember(entries), recall: async (ids) => (bridge ? bridge.recall(ids) : new Map()) }
        : undefined,
    ),
  });
  const bridge = config.REDIS_URL
    ? new RedisDecisionBridge(config.REDIS_URL, config.FLOWSCOPE_REDIS_PREFIX, randomUUID(), (traceId) => {
        pipeline.rescue(traceId).catch((err: unknown) => logger.warn({ err: String(err), traceId }, 'could not write rescued spans'));
      }, logger.child({ stage: 'sampling' }))
    : undefined;
  const ready = bridge ? bridge.start() : Promise.resolve();
  ready.catch((err: unknown) => logger.error({ err: String(err) }, 'redis for sampling decisions is unavailable'));

  // Background upkeep; unref'd so they never hold the process open.
  const expiry = setInterval(() => {
    sampler.expire();
    metrics.heldSpans.set(sampler.heldSpanCount);
    metrics.heldBytes.set(sampler.heldByteCount);
  }, Math.max(100, Math.min(1000, config.FLOWSCOPE_SAMPLING_DECISION_WAIT_MS / 4)));
  expiry.unref();
  const pruning = setInterval(() => {
    pruneReceipts(db, config.FLOWSCOPE_RECEIPT_TTL_MS).catch(() => {});
  }, 10 * 60_000);
  pruning.unref();

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
    const e = toFlowscopeError(err, req.headers['content-type']);
    metrics.requests.inc({ transport: 'http', code: e.statusCode });
    if (e.statusCode >= 500 && !e.retryable) req.log.error({ err }, 'export failed');
    else req.log.info({ status: e.statusCode, code: e.code, reason: e.message }, 'export refused');
    return sendError(req, reply, e);
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 5, message: `no route ${req.method} ${req.url}` }));

  registerOpsRoutes(app, {
    registry: metrics.registry,
    checks: [
      ...(bridge ? [{ name: 'redis', check: () => bridge.ping() }] : []),
      {
        name: 'database',
        check: async () => {
          if (!writer.storageAvailable) throw new Error('storage unavailable');
          await db.ping();
        },
      },
    ],
  });
  registerCors(app, config.FLOWSCOPE_CORS_ORIGINS);
  const auth = new IngestAuth({
    tokens: config.FLOWSCOPE_INGEST_TOKENS,
    rateLimit: config.FLOWSCOPE_INGEST_RATE_LIMIT,
    rateWindowSeconds: config.FLOWSCOPE_INGEST_RATE_WINDOW_SECONDS,
    onRateLimited: (token) => metrics.ingestRateLimited.inc({ token }),
  });
  if (auth.enabled) logger.info({ tokens: config.FLOWSCOPE_INGEST_TOKENS.map((t) => t.name) }, 'ingest authentication on: OTLP requests need one of the ingest tokens');
  registerOtlpHttp(app, { pipeline, limiter, maxBodyBytes: config.FLOWSCOPE_MAX_BODY_BYTES, metrics, auth });

  let closing: Promise<void> | undefined;
  let grpc: Promise<GrpcReceiver> | undefined;
  const listenGrpc = ({ host, port }: { host: string; port: number }) => {
    if (closing) return Promise.reject(errors.shuttingDown());
    grpc ??= startGrpcReceiver({ pipeline, limiter, metrics, logger, host, port, maxMessageBytes: config.FLOWSCOPE_MAX_BODY_BYTES, auth });
    return grpc.then((r) => r.port);
  };
  const close = () => {
    closing ??= (async () => {
      clearInterval(expiry);
      clearInterval(pruning);
      // Both receivers stop before the writer flushes.
      await Promise.all([grpc?.then((r) => r.close(), () => {}), app.close()]);
      await writer.close();
      await bridge?.close();
      sampler.clear();
    })();
    return closing;
  };
  app.addHook('onClose', async () => {
    await writer.close();
  });
  return { app, pipeline, writer, metrics, sampler, ready, close, listenGrpc };
}

/** Live events for session changes: started when created, then completed / failed / timed out. */
export function workflowEvents(transitions: readonly SessionTransition[], at = new Date().toISOString()): WorkflowEvent[] {
  const out: WorkflowEvent[] = [];
  for (const t of transitions) {
    const base = {
      workflow_id: t.workflowId,
      workflow_type: t.workflowType,
      at,
      trace_id: t.traceId ?? undefined,
      user_id: t.userId,
      duration_ms: t.durationMs,
      error_count: t.errorCount,
    };
    if (t.from === null) out.push({ type: 'workflow.started', ...base });
    if (t.to === 'completed' || t.to === 'failed' || t.to === 'timed_out') out.push({ type: `workflow.${t.to}`, ...base });
  }
  return out;
}
