/**
 * @flowscope/instrumentation: one call for a Node service to export workflow-tagged spans to
 * flowscope, on the OpenTelemetry Node SDK with its HTTP and undici (fetch) instrumentations.
 *
 *   const flowscope = initFlowscope({ serviceName: 'checkout-api', layer: 'api' });
 *   app.use(flowscope.express({ routes: { 'POST /checkout': 'checkout' } }));
 *   await flowscope.withWorkflow('nightly-export', undefined, async () => { … }); // outside a request
 *   process.on('SIGTERM', () => void flowscope.shutdown());
 *
 * It never crashes its host: bad configuration logs one warning and returns a no-op handle
 * whose `withWorkflow` still runs the callback and whose middlewares still call next.
 */
import { createRequire } from 'node:module';
import { context, propagation, trace, ProxyTracerProvider, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import type { Context, TextMapPropagator, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { resolveConfig } from './config.ts';
import type { FlowscopeOptions, ResolvedConfig } from './config.ts';
import { expressMiddleware, fastifyPlugin } from './middleware.ts';
import type { ExpressMiddleware, FastifyPlugin, MiddlewareOptions } from './middleware.ts';
import { WorkflowSpanProcessor } from './processor.ts';
import { createPropagator } from './propagator.ts';
import { Redactor } from './redact.ts';
import { currentWorkflow, withWorkflow } from './workflow.ts';
import type { WorkflowRef } from './workflow.ts';

export { LAYERS, DEFAULT_ENDPOINT, resolveConfig } from './config.ts';
export type { FlowscopeOptions, Layer, ResolvedConfig } from './config.ts';
export { CorrelationIdPropagator, WorkflowBaggagePropagator, CORRELATION_ID_HEADER, createPropagator } from './propagator.ts';
export { WorkflowSpanProcessor } from './processor.ts';
export { Redactor, REDACTED, DEFAULT_REDACT_KEYS } from './redact.ts';
export { compileRoutes } from './middleware.ts';
export type { RouteMap, MiddlewareOptions, ExpressMiddleware, FastifyPlugin } from './middleware.ts';
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
  /**
   * Express (or Connect, or plain node:http) middleware playing the old correlation id,
   * workflow tracing and performance monitoring middlewares. `app.use(flowscope.express({ routes }))`.
   */
  express(options?: MiddlewareOptions): ExpressMiddleware;
  /** The same as a Fastify plugin: `await app.register(flowscope.fastify, { routes })`. */
  readonly fastify: FastifyPlugin;
  /** See `withWorkflow` in workflow.ts: for work outside a request (jobs, scripts, consumers). */
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
    express: (options) => expressMiddleware(propagator, options),
    fastify: fastifyPlugin(propagator),
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
 * Sets up OpenTelemetry exporting to flowscope. With `register` (the default): the Node SDK
 * (`@opentelemetry/sdk-node`) with the HTTP and undici instrumentations plus the given ones,
 * an AsyncLocalStorage context manager, and W3C trace context + baggage + `X-Correlation-ID`
 * propagation, registered globally. Without: a tracer provider of its own (no instrumentation).
 * Either way spans go through the workflow/redaction processor, then a bounded batch processor
 * and the OTLP/HTTP (JSON) exporter.
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

let defaults: Instrumentation[] | undefined;

/**
 * The HTTP instrumentation is one per process: the instrumentation library hooks a module once
 * (through one shared require hook that caches modules), so a second instance would never
 * patch node:http; the same instance is re-enabled when a handle is created after a shutdown.
 */
function defaultInstrumentations(): Instrumentation[] {
  defaults ??= [new HttpInstrumentation({ enabled: false })];
  // undici's instrumentation subscribes to diagnostics channels (no module hook): a fresh one.
  return [...defaults, new UndiciInstrumentation()];
}

/** True when another tracer provider or propagator is registered globally already. */
function globalsTaken(): boolean {
  const noop = new ProxyTracerProvider().getDelegate();
  const current = trace.getTracerProvider();
  const tracerTaken = current instanceof ProxyTracerProvider ? current.getDelegate() !== noop : true;
  return tracerTaken || propagation.fields().length > 0;
}

function start(config: ResolvedConfig, logger: Logger): FlowscopeHandle {
  const redactor = new Redactor(config.redactKeys, { values: config.redactValues, patterns: config.redactValuePatterns });
  const resourceAttributes: Record<string, string | number | boolean> = { ...config.resourceAttributes };
  redactor.attributes(resourceAttributes);
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
      ...(config.serviceVersion !== undefined ? { [ATTR_SERVICE_VERSION]: config.serviceVersion } : {}),
    }),
  );
  const exporter = new OTLPTraceExporter({
    url: config.tracesUrl,
    headers: config.headers,
    timeoutMillis: config.exportTimeoutMillis,
  });
  const batch = new BatchSpanProcessor(exporter, {
    maxQueueSize: config.maxQueueSize,
    maxExportBatchSize: Math.min(512, config.maxQueueSize),
    scheduledDelayMillis: config.scheduledDelayMillis,
    exportTimeoutMillis: config.exportTimeoutMillis,
  });
  // Order matters: attributes are set (and secrets redacted) before the batch processor sees the span end.
  const spanProcessors = [new WorkflowSpanProcessor(config.layer, { redactor }), batch];
  const propagator = createPropagator();

  const flush = async (): Promise<void> => {
    try {
      await batch.forceFlush();
    } catch (error) {
      logger.warn(`flowscope: span export failed: ${errorMessage(error)}`);
    }
  };

  if (config.register && globalsTaken()) {
    logger.warn(
      "flowscope: another OpenTelemetry tracer provider or propagator is already registered globally; this handle is not registered (no automatic instrumentation): use the handle's tracer, inject and extract",
    );
  }
  if (!config.register || globalsTaken()) {
    const provider = new NodeTracerProvider({ resource, spanProcessors });
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= provider.shutdown().catch((error: unknown) => {
        logger.warn(`flowscope: span export failed during shutdown: ${errorMessage(error)}`);
      });
      return stopping;
    };
    return handleFor(true, config, provider.getTracer('@flowscope/instrumentation'), propagator, logger, flush, stop);
  }

  const instrumentations: Instrumentation[] = [
    ...(config.defaultInstrumentations ? defaultInstrumentations() : []),
    ...(config.instrumentations as Instrumentation[]),
  ];
  const contextManager = new AsyncLocalStorageContextManager();
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    spanProcessors,
    instrumentations,
    contextManager,
    textMapPropagator: propagator,
    // Traces only: no metric readers or log processors from the environment.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  if (config.defaultInstrumentations) {
    // ESM applications import node:http before this runs, and the instrumentation patches the
    // module on require: require it once so the server and client are patched already.
    const require = createRequire(import.meta.url);
    require('http');
    require('https');
  }

  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    void stop().then(() => {
      // Let the signal do what it would have done without us (end the process).
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (config.shutdownOnSignals) for (const s of signals) process.off(s, onSignal);
      for (const i of instrumentations) i.disable();
      try {
        await sdk.shutdown();
      } catch (error) {
        logger.warn(`flowscope: span export failed during shutdown: ${errorMessage(error)}`);
      }
      trace.disable();
      propagation.disable();
      context.disable();
    })();
    return stopping;
  };
  if (config.shutdownOnSignals) for (const s of signals) process.once(s, onSignal);

  return handleFor(true, config, trace.getTracer('@flowscope/instrumentation'), propagator, logger, flush, stop);
}
