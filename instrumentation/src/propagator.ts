/**
 * `X-Correlation-ID` header propagation. The system flowscope replaces carried the workflow
 * id in this header; services that do not speak W3C baggage still send and read it.
 *
 * inject: writes the baggage's `workflow.id` as `x-correlation-id`.
 * extract: when the header is present and the baggage has no `workflow.id` yet, puts the
 * header value into the baggage. Run it after the W3C baggage propagator (the composite in
 * `createPropagator` does), so that full baggage wins over the bare header.
 */
import { propagation } from '@opentelemetry/api';
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { isTracingSuppressed, CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { WORKFLOW_ID, isValidWorkflowValue } from './workflow.ts';

export const CORRELATION_ID_HEADER = 'x-correlation-id';

export class CorrelationIdPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (isTracingSuppressed(ctx)) return;
    const id = propagation.getBaggage(ctx)?.getEntry(WORKFLOW_ID)?.value;
    if (isValidWorkflowValue(id)) setter.set(carrier, CORRELATION_ID_HEADER, id);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, CORRELATION_ID_HEADER) ?? getter.get(carrier, 'X-Correlation-ID');
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
    if (!isValidWorkflowValue(value)) return ctx;
    const baggage = propagation.getBaggage(ctx) ?? propagation.createBaggage();
    if (baggage.getEntry(WORKFLOW_ID)) return ctx;
    return propagation.setBaggage(ctx, baggage.setEntry(WORKFLOW_ID, { value }));
  }

  fields(): string[] {
    return [CORRELATION_ID_HEADER];
  }
}

/** W3C trace context, then W3C baggage, then `X-Correlation-ID`. */
export function createPropagator(): TextMapPropagator {
  return new CompositePropagator({
    propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator(), new CorrelationIdPropagator()],
  });
}
