import type { Logger } from 'pino';
import type { AlertEvent, EventBus, WorkflowEvent } from '@flowscope/common';
import { getAlerts, getWorkflows, type Database } from '@flowscope/storage';

/**
 * Live events of the alerting worker: alert state changes (after the evaluation committed)
 * and workflows the maintenance job marked timed out. Best effort: the database stays the record.
 */
export async function publishAlertEvents(db: Database, bus: EventBus, logger: Logger, alertIds: readonly number[], at: string): Promise<void> {
  if (alertIds.length === 0) return;
  const rows = await getAlerts(db, alertIds);
  for (const r of rows) {
    const event: AlertEvent = {
      type: r.state === 'firing' ? 'alert.firing' : 'alert.resolved',
      alert_id: r.id,
      rule_id: r.rule_id,
      rule_name: r.rule_name,
      severity: r.severity,
      value: r.value,
      threshold: r.threshold,
      at,
      workflow_type: r.workflow_type,
      layer: r.layer,
      component: r.component,
      scope_key: r.scope_key,
    };
    await bus.publish(event).catch((err: unknown) => logger.warn({ err: String(err) }, 'could not publish an alert event'));
  }
}

export async function publishTimeoutEvents(db: Database, bus: EventBus, logger: Logger, workflowIds: readonly string[], at: string): Promise<void> {
  if (workflowIds.length === 0) return;
  const rows = await getWorkflows(db, workflowIds);
  for (const r of rows) {
    const event: WorkflowEvent = {
      type: 'workflow.timed_out',
      workflow_id: r.workflow_id,
      workflow_type: r.workflow_type,
      at,
      trace_id: r.first_trace_id ?? undefined,
      user_id: r.user_id,
      duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
      error_count: Number(r.error_count),
    };
    await bus.publish(event).catch((err: unknown) => logger.warn({ err: String(err) }, 'could not publish a workflow event'));
  }
}
