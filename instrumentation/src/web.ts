/**
 * @flowscope/instrumentation/web: the browser side. Page loads (document-load instrumentation)
 * and API calls (fetch and XHR instrumentations) become `frontend`-layer spans of the current
 * workflow; calls carry `traceparent`, `baggage` and `X-Correlation-ID`, so the backend's spans
 * continue the same trace and workflow. Secrets are redacted before export, as on Node.
 *
 *   const flowscope = initFlowscopeWeb({ serviceName: 'storefront', endpoint: 'https://flowscope:4318' });
 *   await flowscope.withWorkflow('checkout', undefined, () => fetch('/api/checkout', { method: 'POST' }));
 *
 * The collector must list the page's origin in FLOWSCOPE_CORS_ORIGINS. In a browser the active
 * workflow is one per page (set by withWorkflow or setWorkflow until it settles), because a
 * browser has no async context propagation without zone.js.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { XMLHttpRequestInstrumentation } from '@opentelemetry/instrumentation-xml-http-request';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { WorkflowSpanProcessor } from './processor.ts';
import { createPropagator } from './propagator.ts';
import { Redactor } from './redact.ts';
import { patternProblems } from './config.ts';
import { contextWithWorkflow, isValidWorkflowValue, newWorkflowId } from './workflow.ts';
import type { WorkflowRef } from './workflow.ts';

export { REDACTED, DEFAULT_REDACT_KEYS } from './redact.ts';
export type { WorkflowRef } from './workflow.ts';

export interface FlowscopeWebOptions {
  serviceName: string;
  /** Base URL of the collector (spans go to `<endpoint>/v1/traces`); default http://localhost:4318. */
  endpoint?: string;
  /** Workflow type of the page load spans (default `page_load`); each page load is its own workflow. */
  pageLoadWorkflowType?: string;
  /** URLs of other origins that get trace headers (same-origin calls always do). Default: none. */
  propagateTo?: (string | RegExp)[];
  redactKeys?: string[];
  /** Scrub secrets inside values too (default true), as on Node and in the collector. */
  redactValues?: boolean;
  /** More secrets to scrub from every value (regular expression sources, case-insensitive). */
  redactValuePatterns?: string[];
  /** Delay between two exports, ms (default 1000). */
  scheduledDelayMillis?: number;
}

export interface FlowscopeWebHandle {
  readonly enabled: boolean;
  /** Runs fn in a workflow (generated id when undefined); a returned promise keeps it until it settles. */
  withWorkflow<T>(type: string, id: string | undefined, fn: (workflow: { type: string; id: string }) => T): T;
  /** Sets (or clears, with undefined) the page's current workflow. */
  setWorkflow(workflow: { type: string; id?: string } | undefined): WorkflowRef | undefined;
  currentWorkflow(): WorkflowRef | undefined;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function initFlowscopeWeb(options: FlowscopeWebOptions): FlowscopeWebHandle {
  let current: WorkflowRef | undefined;
  const page: WorkflowRef = { type: options.pageLoadWorkflowType ?? 'page_load', id: newWorkflowId() };
  const disabled: FlowscopeWebHandle = {
    enabled: false,
    withWorkflow: (type, id, fn) => fn({ type, id: id ?? newWorkflowId() }),
    setWorkflow: () => undefined,
    currentWorkflow: () => undefined,
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  try {
    if (typeof options?.serviceName !== 'string' || options.serviceName.trim() === '') {
      console.warn('flowscope: browser instrumentation disabled: serviceName must be a non-empty string');
      return disabled;
    }
    const problems = patternProblems(options.redactValuePatterns);
    if (problems.length > 0) {
      console.warn(`flowscope: browser instrumentation disabled: ${problems.join('; ')}`);
      return disabled;
    }
    const endpoint = (options.endpoint ?? 'http://localhost:4318').replace(/\/+$/, '');
    const exporter = new OTLPTraceExporter({ url: `${endpoint}/v1/traces` });
    const provider = new WebTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName }),
      spanProcessors: [
        new WorkflowSpanProcessor('frontend', {
          redactor: new Redactor(options.redactKeys, { values: options.redactValues, patterns: options.redactValuePatterns }),
          fallback: (span) => (span.instrumentationScope.name.includes('document-load') ? page : current),
        }),
        new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.scheduledDelayMillis ?? 1000 }),
      ],
    });
    provider.register({ propagator: createPropagator(() => current) });
    const unregister = registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [
        new DocumentLoadInstrumentation(),
        new FetchInstrumentation({ propagateTraceHeaderCorsUrls: options.propagateTo ?? [], ignoreUrls: [`${endpoint}/v1/traces`] }),
        new XMLHttpRequestInstrumentation({ propagateTraceHeaderCorsUrls: options.propagateTo ?? [], ignoreUrls: [`${endpoint}/v1/traces`] }),
      ],
    });
    const setWorkflow = (wf: { type: string; id?: string } | undefined): WorkflowRef | undefined => {
      if (wf === undefined || !isValidWorkflowValue(wf.type)) {
        current = undefined;
        return undefined;
      }
      current = { type: wf.type, id: isValidWorkflowValue(wf.id) ? wf.id : newWorkflowId() };
      return current;
    };
    const flush = (): Promise<void> => provider.forceFlush().catch((e: unknown) => console.warn(`flowscope: span export failed: ${String(e)}`));
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.('pagehide', () => void flush());
    return {
      enabled: true,
      withWorkflow<T>(type: string, id: string | undefined, fn: (workflow: { type: string; id: string }) => T): T {
        const previous = current;
        const wf = setWorkflow({ type, id });
        if (!wf?.type || !wf.id) return fn({ type, id: id ?? newWorkflowId() });
        const restore = (): void => {
          if (current === wf) current = previous;
        };
        try {
          const result = context.with(contextWithWorkflow(context.active(), wf.type, wf.id), () => fn({ type: wf.type!, id: wf.id! }));
          if (result instanceof Promise) {
            return result.finally(restore) as T;
          }
          restore();
          return result;
        } catch (error) {
          restore();
          throw error;
        }
      },
      setWorkflow,
      currentWorkflow: () => current,
      forceFlush: flush,
      async shutdown() {
        unregister();
        await provider.shutdown().catch(() => {});
        trace.disable();
        propagation.disable();
      },
    };
  } catch (error) {
    console.warn(`flowscope: browser instrumentation disabled, set-up failed: ${String(error)}`);
    return disabled;
  }
}
