/**
 * Copies the workflow of the parent context (its baggage, else the request's slot) onto every
 * span as attributes, so the collector can group spans by workflow without any call site
 * setting them. Attributes the span was started with win: an explicit `workflow.type` is never
 * overwritten. A span started before its request's workflow was known (the server span itself)
 * gets it when it ends.
 *
 * The configured layer names the service's own layer; a database or messaging client span
 * (started with `db.system`, `db.system.name` or `messaging.system`) belongs to the database
 * or queue layer, so it gets no `app.layer` and the collector infers it.
 *
 * On end, secrets are redacted in place with the collector's rules (secret-named attributes,
 * and secrets inside values, span and event names and the status message), before any
 * exporting processor placed after this one sees the span.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { APP_LAYER, WORKFLOW_ID, WORKFLOW_TYPE, currentWorkflow, getSlot } from './workflow.ts';
import type { WorkflowFallback, WorkflowSlot } from './workflow.ts';
import type { Layer } from './config.ts';
import { Redactor } from './redact.ts';

const OTHER_LAYER_KEYS = ['db.system', 'db.system.name', 'messaging.system'];

function isClientOfOtherLayer(span: Span): boolean {
  return OTHER_LAYER_KEYS.some((key) => span.attributes[key] !== undefined);
}

export interface WorkflowSpanProcessorOptions {
  redactor?: Redactor;
  /** Workflow when the context has none (the browser's page workflow). Gets the span. */
  fallback?: (span: Span) => ReturnType<WorkflowFallback>;
}

export class WorkflowSpanProcessor implements SpanProcessor {
  private readonly slots = new WeakMap<object, WorkflowSlot>();
  private readonly redactor: Redactor;

  constructor(
    private readonly layer?: Layer,
    private readonly options: WorkflowSpanProcessorOptions = {},
  ) {
    this.redactor = options.redactor ?? new Redactor();
  }

  onStart(span: Span, parentContext: Context): void {
    const fallback = this.options.fallback;
    const workflow = currentWorkflow(parentContext, fallback ? () => fallback(span) : undefined);
    if (workflow?.type !== undefined && span.attributes[WORKFLOW_TYPE] === undefined) span.setAttribute(WORKFLOW_TYPE, workflow.type);
    if (workflow?.id !== undefined && span.attributes[WORKFLOW_ID] === undefined) span.setAttribute(WORKFLOW_ID, workflow.id);
    const slot = getSlot(parentContext);
    if (slot && (workflow?.type === undefined || workflow.id === undefined)) this.slots.set(span, slot);
    if (this.layer !== undefined && span.attributes[APP_LAYER] === undefined && !isClientOfOtherLayer(span)) {
      span.setAttribute(APP_LAYER, this.layer);
    }
  }

  onEnd(span: ReadableSpan): void {
    // The SDK hands the ended span's own attribute objects to every processor in order; this
    // processor runs before the exporting one, so changing them here changes what is exported.
    const attributes = span.attributes as Record<string, unknown>;
    const slot = this.slots.get(span);
    if (slot) {
      if (slot.type !== undefined && attributes[WORKFLOW_TYPE] === undefined) attributes[WORKFLOW_TYPE] = slot.type;
      if (slot.id !== undefined && attributes[WORKFLOW_ID] === undefined) attributes[WORKFLOW_ID] = slot.id;
    }
    const r = this.redactor;
    const count = { n: 0 };
    r.attributes(attributes);
    const named = span as { name: string };
    named.name = r.text(named.name, count);
    const status = span.status as { message?: string };
    if (typeof status.message === 'string') status.message = r.text(status.message, count);
    for (const event of span.events) {
      (event as { name: string }).name = r.text(event.name, count);
      if (event.attributes) r.attributes(event.attributes as Record<string, unknown>);
    }
    for (const link of span.links) if (link.attributes) r.attributes(link.attributes as Record<string, unknown>);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
