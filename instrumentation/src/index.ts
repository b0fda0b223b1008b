/**
 * @flowscope/instrumentation: one call for a Node service to export workflow-tagged spans to
 * flowscope.
 *
 *   const flowscope = initFlowscope({ serviceName: 'checkout-api', layer: 'api' });
 *   await flowscope.withWorkflow('checkout', req.headers['x-correlation-id'], async () => { … });
 *   process.on('SIGTERM', () => void flowscope.shutdown());
 *
 * It never crashes its host: bad configuration logs one warning and returns a no-op handle
 * whose `withWorkflow` still runs the callback.
 */
import { context, propagation, trace, ProxyTracerProvider, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import type { Context, TextMapPropagator, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { resolveConfig } from './config.ts';
import type { FlowscopeOptions, ResolvedConfig } from './config.ts';
import { WorkflowSpanProcessor } from './processor.ts';
import { createPropagator } from './propagator.ts';
import { currentWorkflow, withWorkflow } from './workflow.ts';
import type { WorkflowRef } from './workflow.ts';

export { LAYERS, DEFAULT_ENDPOINT, resolveConfig } from './config.ts';
export type { FlowscopeOptions, Layer, ResolvedConfig } from './config.ts';
export { CorrelationIdPropagator, CORRELATION_ID_HEADER, createPropagator } from './propagator.ts';
export { WorkflowSpanProcessor } from './processor.ts';
export { withWorkflow, currentWorkflow, contextWithWorkflow, WORKFLOW_ID, WORKFLOW_TYPE, APP_LAYER } from './workflow.ts';
export type { WorkflowRef } from './workflow.ts';

/** Headers as Node gives them (`IncomingHttpHeaders`) or as a plain object. */
export type HeaderCarrier = Record<string, string | string[] | undefined>;

export interface FlowscopeHandle {
  /** False when the configuration was bad (or set-up failed) and nothing is exported. */
  readonly enabled: boolean;
  /** The resolved configuration, when enabled. */
  readonly config: ResolvedConfig | undefined;
  /** Tracer of this handle's provider (a no-op tracer when disabled). */
  readonly tracer: Tracer;
  /** W3C trace context + W3C baggage + `X-Correlation-ID`. */
  readonly propagator: TextMapPropagator;
  /** See `withWorkflow` in workflow.ts. */
  withWorkflow<T>(type: string, id: string | undefined, fn: (workflow: { type: string; id: string }) => T): T;
  /** Workflow of the given (default: active) context. */
  currentWorkflow(ctx?: Context): WorkflowRef | undefined;
  /** Writes trace context, baggage and `x-correlation-id` of `ctx` (default: active) into `headers`. */
  inject(headers: Record<string, string>, ctx?: Context): void;
  /** Context of an incoming request's headers, based on `ctx` (default: active). */
  extract(headers: HeaderCarrier, ctx?: Context): Context;
  /** Exports what is queued. Never rejects; a failed export logs a warning. */
  forceFlush(): Promise<void>;
  /** Flushes and stops; undoes the global registration. Safe to call twice. Never rejects. */
  shutdown(): Promise<void>;
}

type Logger = { warn(message: string): void };

function handleFor(
  enabled: boolean,
  config: ResolvedConfig | undefined,
  tracer: Tracer,
  propagator: TextMapPropagator,
  logger: Logger,
  flush: () => Promise<void>,
  stop: () => Promise<void>,
): FlowscopeHandle {
  return {
    enabled,
    config,
    tracer,
    propagator,
    withWorkflow: (type, id, fn) => withWorkflow(type, id, fn, logger),
    currentWorkflow: (ctx) => currentWorkflow(ctx),
    inject: (headers, ctx = context.active()) => propagator.inject(ctx, headers, defaultTextMapSetter),
    extract: (headers, ctx = context.active()) => propagator.extract(ctx, headers, defaultTextMapGetter),
    forceFlush: flush,
    shutdown: stop,
  };
}

function noopHandle(logger: Logger): FlowscopeHandle {
  const done = (): Promise<void> => Promise.resolve();
  return handleFor(false, undefined, new ProxyTracerProvider().getTracer('flowscope-noop'), createPropagator(), logger, done, done);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Sets up a tracer provider exporting to flowscope: OTLP/HTTP (JSON) through a bounded batch
 * processor, the workflow span processor, and W3C trace context + baggage + `X-Correlation-ID`
 * propagation; registers them globally unless `register: false`.
 */
export function initFlowscope(options: FlowscopeOptions): FlowscopeHandle {
  const logger: Logger =
    typeof options === 'object' && options !== null && typeof options.logger?.warn === 'function'
      ? options.logger
      : console;
  try {
    const resolved = resolveConfig(options, process.env);
    if (!resolved.ok) {
      logger.warn(`flowscope: instrumentation disabled, bad configuration: ${resolved.problems.join('; ')}`);
      return noopHandle(logger);
    }
    return start(resolved.config, logger);
  } catch (error) {
    logger.warn(`flowscope: instrumentation disabled, set-up failed: ${errorMessage(error)}`);
    return noopHandle(logger);
  }
}

function start(config: ResolvedConfig, logger: Logger): FlowscopeHandle {
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
      ...(config.serviceVersion !== undefined ? { [ATTR_SERVICE_VERSION]: config.serviceVersion } : {}),
    }),
  );
  const exporter = new OTLPTraceExporter({
    url: config.tracesUrl,
    headers: config.headers,
    timeoutMillis: config.exportTimeoutMillis,
  });
  const provider = new NodeTracerProvider({
    resource,
    // Order matters: attributes are set in onStart before the batch processor sees the span end.
    spanProcessors: [
      new WorkflowSpanProcessor(config.layer),
      new BatchSpanProcessor(exporter, {
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: Math.min(512, config.maxQueueSize),
        scheduledDelayMillis: config.scheduledDelayMillis,
        exportTimeoutMillis: config.exportTimeoutMillis,
      }),
    ],
  });
  const propagator = createPropagator();

  const registered = { tracer: false, context: false, propagator: false };
  let contextManager: AsyncLocalStorageContextManager | undefined;
  if (config.register) {
    registered.tracer = trace.setGlobalTracerProvider(provider);
    contextManager = new AsyncLocalStorageContextManager().enable();
    registered.context = context.setGlobalContextManager(contextManager);
    if (!registered.context) {
      // Another context manager is already active; it carries our context just as well.
      contextManager.disable();
      contextManager = undefined;
    }
    registered.propagator = propagation.setGlobalPropagator(propagator);
    if (!registered.tracer || !registered.propagator) {
      logger.warn(
        'flowscope: another OpenTelemetry tracer provider or propagator is already registered globally; use the handle\'s tracer, inject and extract',
      );
    }
  }

  const flush = async (): Promise<void> => {
    try {
      await provider.forceFlush();
    } catch (error) {
      logger.warn(`flowscope: span export failed: ${errorMessage(error)}`);
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await provider.shutdown();
      } catch (error) {
        logger.warn(`flowscope: span export failed during shutdown: ${errorMessage(error)}`);
      }
      if (registered.tracer) trace.disable();
      if (registered.propagator) propagation.disable();
      if (registered.context) context.disable();
    })();
    return stopping;
  };

  return handleFor(true, config, provider.getTracer('@flowscope/instrumentation'), propagator, logger, flush, stop);
}
