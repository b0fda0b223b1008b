/**
 * Options of `initFlowscope` and their validation. Validation never throws: it returns the
 * list of problems so that `initFlowscope` can log one warning and hand back a no-op handle.
 */

/** The layers of the span conventions in docs/architecture.md (`app.layer`). */
export const LAYERS = ['frontend', 'api', 'service', 'database', 'cache', 'queue', 'external'] as const;
export type Layer = (typeof LAYERS)[number];

export const DEFAULT_ENDPOINT = 'http://localhost:4318';

export interface FlowscopeOptions {
  /** `service.name` of the resource; required. */
  serviceName: string;
  /** `service.version` of the resource. */
  serviceVersion?: string;
  /**
   * Base URL of the flowscope collector (OTLP/HTTP); spans go to `<endpoint>/v1/traces`.
   * Default: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL), then
   * `OTEL_EXPORTER_OTLP_ENDPOINT`, then `http://localhost:4318`.
   */
  endpoint?: string;
  /** Written as `app.layer` on every span that does not set it itself, but database and messaging client spans. */
  layer?: Layer;
  /** Extra headers on every export request (for example an auth header of a gateway). */
  headers?: Record<string, string>;
  /** Extra resource attributes (`deployment.environment.name`, …). */
  resourceAttributes?: Record<string, string | number | boolean>;
  /**
   * Register the tracer provider, an AsyncLocalStorage context manager and the propagator
   * globally (default true). With false, use `handle.tracer`, `handle.inject` and
   * `handle.extract` explicitly.
   */
  register?: boolean;
  /** Time limit of one export request, ms (default 10000). */
  exportTimeoutMillis?: number;
  /** Bound of the span queue of the batch processor (default 2048); past it spans are dropped and counted by the SDK. */
  maxQueueSize?: number;
  /** Delay between two batch exports, ms (default 1000). */
  scheduledDelayMillis?: number;
  /** Where the one warning about bad configuration goes (default `console`). */
  logger?: { warn(message: string): void };
  /** Environment to read `OTEL_EXPORTER_OTLP_*` from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * Instrumentations added to the defaults (any `@opentelemetry/instrumentation-*`: pg,
   * ioredis, express, …). Only used when registering globally.
   */
  instrumentations?: unknown[];
  /** The HTTP (node:http/https server and client) and undici/fetch instrumentations (default true). */
  defaultInstrumentations?: boolean;
  /** Attribute key fragments whose values are redacted before export (default: the collector's defaults). */
  redactKeys?: string[];
  /** Scrub secrets inside values, span and event names and status messages too, as the collector's FLOWSCOPE_REDACT_VALUES (default true). */
  redactValues?: boolean;
  /** More secrets to scrub from every value: regular expression sources (case-insensitive), as the collector's FLOWSCOPE_REDACT_VALUE_PATTERNS. */
  redactValuePatterns?: string[];
  /**
   * On SIGTERM and SIGINT, flush and shut down, then let the signal end the process as it
   * would have (default false: call `shutdown()` from your own handler).
   */
  shutdownOnSignals?: boolean;
}

export interface ResolvedConfig {
  serviceName: string;
  serviceVersion: string | undefined;
  /** Full URL spans are POSTed to. */
  tracesUrl: string;
  layer: Layer | undefined;
  headers: Record<string, string>;
  resourceAttributes: Record<string, string | number | boolean>;
  register: boolean;
  exportTimeoutMillis: number;
  maxQueueSize: number;
  scheduledDelayMillis: number;
  instrumentations: unknown[];
  defaultInstrumentations: boolean;
  redactKeys: string[] | undefined;
  redactValues: boolean;
  redactValuePatterns: string[];
  shutdownOnSignals: boolean;
}

export type ConfigResult = { ok: true; config: ResolvedConfig } | { ok: false; problems: string[] };

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function positiveInt(
  problems: string[],
  name: string,
  value: unknown,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    problems.push(`${name} must be a positive integer (got ${JSON.stringify(value)})`);
    return fallback;
  }
  return value;
}

function resolveTracesUrl(
  problems: string[],
  endpoint: unknown,
  env: Record<string, string | undefined>,
): string {
  const fromBase = (base: string, source: string): string => {
    const url = httpUrl(base);
    if (!url) {
      problems.push(`${source} must be an http(s) URL (got ${JSON.stringify(base)})`);
      return '';
    }
    return `${url.href.replace(/\/+$/, '')}/v1/traces`;
  };
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'string') {
      problems.push(`endpoint must be a string (got ${JSON.stringify(endpoint)})`);
      return '';
    }
    return fromBase(endpoint, 'endpoint');
  }
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (tracesEndpoint) {
    if (!httpUrl(tracesEndpoint)) {
      problems.push(
        `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL (got ${JSON.stringify(tracesEndpoint)})`,
      );
      return '';
    }
    return tracesEndpoint;
  }
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return fromBase(base, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  return fromBase(DEFAULT_ENDPOINT, 'default endpoint');
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}

function isAttributeRecord(value: unknown): value is Record<string, string | number | boolean> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
  );
}

/** Problems of a redactValuePatterns option: an array of valid regular expression sources. */
export function patternProblems(patterns: unknown): string[] {
  if (patterns === undefined) return [];
  if (!Array.isArray(patterns) || !patterns.every((p) => typeof p === 'string')) return ['redactValuePatterns must be an array of regular expression sources'];
  const problems: string[] = [];
  for (const p of patterns) {
    try {
      new RegExp(p, 'gi');
    } catch (error) {
      problems.push(`redactValuePatterns: ${JSON.stringify(p)} is not a valid regular expression (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return problems;
}

/** Checks every option and reports every problem at once; never throws. */
export function resolveConfig(options: unknown, defaultEnv: Record<string, string | undefined>): ConfigResult {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return { ok: false, problems: ['options must be an object with at least serviceName'] };
  }
  const o = options as Partial<Record<keyof FlowscopeOptions, unknown>>;
  const problems: string[] = [];

  const serviceName = typeof o.serviceName === 'string' ? o.serviceName.trim() : '';
  if (!serviceName) problems.push('serviceName must be a non-empty string');

  if (o.serviceVersion !== undefined && typeof o.serviceVersion !== 'string') {
    problems.push('serviceVersion must be a string');
  }

  if (o.layer !== undefined && !(LAYERS as readonly unknown[]).includes(o.layer)) {
    problems.push(`layer must be one of ${LAYERS.join(', ')} (got ${JSON.stringify(o.layer)})`);
  }

  if (o.headers !== undefined && !isStringRecord(o.headers)) {
    problems.push('headers must be an object of string values');
  }
  if (o.resourceAttributes !== undefined && !isAttributeRecord(o.resourceAttributes)) {
    problems.push('resourceAttributes must be an object of string, number or boolean values');
  }
  if (o.register !== undefined && typeof o.register !== 'boolean') {
    problems.push('register must be a boolean');
  }
  if (o.env !== undefined && (typeof o.env !== 'object' || o.env === null)) {
    problems.push('env must be an object');
  }
  const env = typeof o.env === 'object' && o.env !== null ? (o.env as Record<string, string | undefined>) : defaultEnv;

  for (const name of ['defaultInstrumentations', 'shutdownOnSignals', 'redactValues'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') problems.push(`${name} must be a boolean`);
  }
  if (o.instrumentations !== undefined && !Array.isArray(o.instrumentations)) {
    problems.push('instrumentations must be an array of OpenTelemetry instrumentations');
  }
  if (o.redactKeys !== undefined && !(Array.isArray(o.redactKeys) && o.redactKeys.every((k) => typeof k === 'string'))) {
    problems.push('redactKeys must be an array of strings');
  }
  problems.push(...patternProblems(o.redactValuePatterns));
  const tracesUrl = resolveTracesUrl(problems, o.endpoint, env);
  const exportTimeoutMillis = positiveInt(problems, 'exportTimeoutMillis', o.exportTimeoutMillis, 10_000);
  const maxQueueSize = positiveInt(problems, 'maxQueueSize', o.maxQueueSize, 2048);
  const scheduledDelayMillis = positiveInt(problems, 'scheduledDelayMillis', o.scheduledDelayMillis, 1000);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      serviceName,
      serviceVersion: o.serviceVersion as string | undefined,
      tracesUrl,
      layer: o.layer as Layer | undefined,
      headers: (o.headers as Record<string, string> | undefined) ?? {},
      resourceAttributes: (o.resourceAttributes as Record<string, string | number | boolean> | undefined) ?? {},
      register: (o.register as boolean | undefined) ?? true,
      exportTimeoutMillis,
      maxQueueSize,
      scheduledDelayMillis,
      instrumentations: (o.instrumentations as unknown[] | undefined) ?? [],
      defaultInstrumentations: (o.defaultInstrumentations as boolean | undefined) ?? true,
      redactKeys: o.redactKeys as string[] | undefined,
      redactValues: (o.redactValues as boolean | undefined) ?? true,
      redactValuePatterns: (o.redactValuePatterns as string[] | undefined) ?? [],
      shutdownOnSignals: (o.shutdownOnSignals as boolean | undefined) ?? false,
    },
  };
}
