/**
 * Propagation: W3C trace context, W3C baggage (with the request's workflow added when the
 * baggage lacks it) and the `X-Correlation-ID` header. The system flowscope replaces carried
 * the workflow id in that header; services that do not speak W3C baggage still send and read it.
 *
 * inject: writes the workflow id (baggage, else the request's slot) as `x-correlation-id`.
 * extract: when the header is present and the baggage has no `workflow.id` yet, puts the
 * header value into the baggage; and gives the context a fresh per-request workflow slot
 * (see workflow.ts) that the framework middleware completes.
 */
import { propagation } from '@opentelemetry/api';
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { isTracingSuppressed, CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { WORKFLOW_ID, WORKFLOW_TYPE, contextWithSlot, currentWorkflow, isValidWorkflowValue } from './workflow.ts';
import type { WorkflowFallback } from './workflow.ts';

export const CORRELATION_ID_HEADER = 'x-correlation-id';

export class CorrelationIdPropagator implements TextMapPropagator {
  constructor(private readonly fallback?: WorkflowFallback) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (isTracingSuppressed(ctx)) return;
    const id = currentWorkflow(ctx, this.fallback)?.id;
    if (isValidWorkflowValue(id)) setter.set(carrier, CORRELATION_ID_HEADER, id);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, CORRELATION_ID_HEADER) ?? getter.get(carrier, 'X-Correlation-ID');
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    let out = ctx;
    const baggage = propagation.getBaggage(ctx);
    if (isValidWorkflowValue(value) && !baggage?.getEntry(WORKFLOW_ID)) {
      out = propagation.setBaggage(ctx, (baggage ?? propagation.createBaggage()).setEntry(WORKFLOW_ID, { value }));
    }
    const finalBaggage = propagation.getBaggage(out);
    const type = finalBaggage?.getEntry(WORKFLOW_TYPE)?.value;
    const id = finalBaggage?.getEntry(WORKFLOW_ID)?.value;
    return contextWithSlot(out, {
      type: isValidWorkflowValue(type) ? type : undefined,
      id: isValidWorkflowValue(id) ? id : undefined,
    });
  }

  fields(): string[] {
    return [CORRELATION_ID_HEADER];
  }
}

/** W3C baggage, plus the request's (or page's) workflow when the baggage does not name one. */
export class WorkflowBaggagePropagator implements TextMapPropagator {
  private readonly inner = new W3CBaggagePropagator();
  constructor(private readonly fallback?: WorkflowFallback) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const workflow = currentWorkflow(ctx, this.fallback);
    let baggage = propagation.getBaggage(ctx);
    let out = ctx;
    if (workflow) {
      for (const [key, value] of [[WORKFLOW_TYPE, workflow.type], [WORKFLOW_ID, workflow.id]] as const) {
        if (isValidWorkflowValue(value) && !baggage?.getEntry(key)) {
          baggage = (baggage ?? propagation.createBaggage()).setEntry(key, { value });
          out = propagation.setBaggage(out, baggage);
        }
      }
    }
    this.inner.inject(out, carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.inner.extract(ctx, carrier, getter);
  }

  fields(): string[] {
    return this.inner.fields();
  }
}

/** W3C trace context, then W3C baggage, then `X-Correlation-ID`. */
export function createPropagator(fallback?: WorkflowFallback): TextMapPropagator {
  return new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new WorkflowBaggagePropagator(fallback), new CorrelationIdPropagator(fallback)],
  });
}
