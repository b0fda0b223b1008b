/**
 * Copies the workflow of the parent context's baggage onto every span as attributes, so the
 * collector can group spans by workflow without any call site setting them. Attributes the
 * span was started with win: an explicit `workflow.type` is never overwritten.
 */
import { propagation } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { APP_LAYER, WORKFLOW_ID, WORKFLOW_TYPE } from './workflow.ts';
import type { Layer } from './config.ts';

export class WorkflowSpanProcessor implements SpanProcessor {
  constructor(private readonly layer?: Layer) {}

  onStart(span: Span, parentContext: Context): void {
    const baggage = propagation.getBaggage(parentContext);
    for (const key of [WORKFLOW_TYPE, WORKFLOW_ID]) {
      const value = baggage?.getEntry(key)?.value;
      if (value !== undefined && span.attributes[key] === undefined) span.setAttribute(key, value);
    }
    if (this.layer !== undefined && span.attributes[APP_LAYER] === undefined) {
      span.setAttribute(APP_LAYER, this.layer);
    }
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
