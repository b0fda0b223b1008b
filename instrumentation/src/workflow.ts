/**
 * Workflow identity carried in W3C baggage (`workflow.type`, `workflow.id`), so that it
 * travels with every outgoing request of a propagating client and reaches downstream
 * services without any of them knowing about it.
 *
 * Inside an instrumented HTTP request the workflow is decided after the server span has
 * started (the Express/Fastify middleware reads the route and headers), and frameworks run
 * later request handlers in contexts that were captured before the middleware ran (body
 * parsers resume in the request's own context). So the propagator puts a mutable per-request
 * `WorkflowSlot` into the extracted context; everything derived from that context (the server
 * span, handlers, outgoing calls) sees what the middleware writes into it.
 */
import { context, createContextKey, propagation } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

export const WORKFLOW_TYPE = 'workflow.type';
export const WORKFLOW_ID = 'workflow.id';
export const APP_LAYER = 'app.layer';

export interface WorkflowRef {
  type: string | undefined;
  id: string | undefined;
}

/** The mutable workflow of one incoming request. */
export interface WorkflowSlot {
  type: string | undefined;
  id: string | undefined;
}

const SLOT_KEY = createContextKey('flowscope.workflow-slot');

export function getSlot(ctx: Context): WorkflowSlot | undefined {
  return ctx.getValue(SLOT_KEY) as WorkflowSlot | undefined;
}

export function contextWithSlot(ctx: Context, slot: WorkflowSlot): Context {
  return ctx.setValue(SLOT_KEY, slot);
}

/** Bound on a baggage value we put or accept, well inside W3C baggage's 4096-byte member limit. */
export const MAX_VALUE_LENGTH = 256;

/** A type or id we accept: printable ASCII without spaces, bounded. */
export function isValidWorkflowValue(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_VALUE_LENGTH &&
    /^[\x21-\x7e]+$/.test(value)
  );
}

/** A random (v4) UUID, in Node and in browsers (also outside secure contexts). */
export function newWorkflowId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string; getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof c?.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Where a workflow comes from when the context has none (the browser's current workflow). */
export type WorkflowFallback = () => WorkflowRef | undefined;

/**
 * The workflow of a context (the active one by default): its baggage, then the request's
 * slot, each field on its own; the fallback when the context has no slot or an empty one (an
 * extraction without workflow headers, as the browser's document load instrumentation does).
 */
export function currentWorkflow(ctx: Context = context.active(), fallback?: WorkflowFallback): WorkflowRef | undefined {
  const baggage = propagation.getBaggage(ctx);
  const own = getSlot(ctx);
  const slot = own?.type !== undefined || own?.id !== undefined ? own : (fallback?.() ?? own);
  const type = baggage?.getEntry(WORKFLOW_TYPE)?.value ?? slot?.type;
  const id = baggage?.getEntry(WORKFLOW_ID)?.value ?? slot?.id;
  if (type === undefined && id === undefined) return undefined;
  return { type, id };
}

/** A context whose baggage names the workflow; other baggage entries are kept. */
export function contextWithWorkflow(ctx: Context, type: string, id: string): Context {
  const baggage = (propagation.getBaggage(ctx) ?? propagation.createBaggage())
    .setEntry(WORKFLOW_TYPE, { value: type })
    .setEntry(WORKFLOW_ID, { value: id });
  return propagation.setBaggage(ctx, baggage);
}

let warnedBadWorkflow = false;

/**
 * Runs `fn` inside a workflow: `workflow.type` and `workflow.id` (generated when `id` is
 * undefined) are put into the baggage of the active context, so every span started inside
 * `fn` carries them (through the flowscope span processor) and every propagated request
 * carries them downstream. Returns what `fn` returns (a promise stays a promise).
 *
 * Never throws on its own account: an invalid type or id logs one warning and `fn` runs in
 * the current context unchanged.
 */
export function withWorkflow<T>(
  type: string,
  id: string | undefined,
  fn: (workflow: { type: string; id: string }) => T,
  logger: { warn(message: string): void } = console,
): T {
  const workflowId = id ?? newWorkflowId();
  if (!isValidWorkflowValue(type) || !isValidWorkflowValue(workflowId)) {
    if (!warnedBadWorkflow) {
      warnedBadWorkflow = true;
      logger.warn(
        `flowscope: withWorkflow ignored an invalid workflow type or id (non-empty printable ASCII without spaces, at most ${MAX_VALUE_LENGTH} characters); running without workflow context`,
      );
    }
    return fn({ type: String(type), id: String(workflowId) });
  }
  return context.with(contextWithWorkflow(context.active(), type, workflowId), () =>
    fn({ type, id: workflowId }),
  );
}
