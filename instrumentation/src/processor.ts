/**
 * Copies the workflow of the parent context's baggage onto every span as attributes, so the
 * collector can group spans by workflow without any call site setting them. Attributes the
 * span was started with win: an explicit `workflow.type` is never overwritten.
 *
 * The configured layer names the service's own layer; a database or messaging client span
 * (started with `db.system`, `db.system.name` or `messaging.system`) belongs to the database
 * or queue layer, so it gets no `app.layer` and the collector infers it.
 */
import { propagation } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { APP_LAYER, WORKFLOW_ID, WORKFLOW_TYPE } from './workflow.ts';
import type { Layer } from './config.ts';

const OTHER_LAYER_KEYS = ['db.system', 'db.system.name', 'messaging.system'];

function isClientOfOtherLayer(span: Span): boolean {
  return OTHER_LAYER_KEYS.some((key) => span.attributes[key] !== undefined);
}

export class WorkflowSpanProcessor implements SpanProcessor {
  constructor(private readonly layer?: Layer) {}

  onStart(span: Span, parentContext: Context): void {
    const baggage = propagation.getBaggage(parentContext);
    for (const key of [WORKFLOW_TYPE, WORKFLOW_ID]) {
      const value = baggage?.getEntry(key)?.value;
      if (value !== undefined && span.attributes[key] === undefined) span.setAttribute(key, value);
    }
    if (this.layer !== undefined && span.attributes[APP_LAYER] === undefined && !isClientOfOtherLayer(span)) {
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
