/**
 * Workflow identity carried in W3C baggage (`workflow.type`, `workflow.id`), so that it
 * travels with every outgoing request of a propagating client and reaches downstream
 * services without any of them knowing about it.
 */
import { randomUUID } from 'node:crypto';
import { context, propagation } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';

export const WORKFLOW_TYPE = 'workflow.type';
export const WORKFLOW_ID = 'workflow.id';
export const APP_LAYER = 'app.layer';

export interface WorkflowRef {
  type: string | undefined;
  id: string | undefined;
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

/** The workflow of a context (the active one by default), from its baggage. */
export function currentWorkflow(ctx: Context = context.active()): WorkflowRef | undefined {
  const baggage = propagation.getBaggage(ctx);
  if (!baggage) return undefined;
  const type = baggage.getEntry(WORKFLOW_TYPE)?.value;
  const id = baggage.getEntry(WORKFLOW_ID)?.value;
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
  const workflowId = id ?? randomUUID();
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
