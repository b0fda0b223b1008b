import type { Database } from '@flowscope/storage';
import { PARTITIONED_TABLES, dropExpiredPartitions, ensurePartitions, failAbandonedOutbox, markTimedOutWorkflows } from '@flowscope/storage';
import type { AlertingConfig } from './config.ts';

export interface MaintenanceConfig
  extends Pick<AlertingConfig, 'FLOWSCOPE_RETENTION_SPANS_DAYS' | 'FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS' | 'DEBUGGING_MAX_TRACE_DURATION' | 'FLOWSCOPE_EMAIL_MAX_ATTEMPTS'> {
  FLOWSCOPE_PARTITIONS_AHEAD_DAYS?: number | undefined;
}

/** Creates the daily partitions from yesterday to FLOWSCOPE_PARTITIONS_AHEAD_DAYS ahead (idempotent). */
export async function runEnsurePartitions(db: Database, config: MaintenanceConfig, nowMs: number): Promise<number> {
  return ensurePartitions(db, new Date(nowMs), config.FLOWSCOPE_PARTITIONS_AHEAD_DAYS ?? 3);
}

/**
 * Retention: drops whole daily partitions whose day ended before the retention period
 * (spans: FLOWSCOPE_RETENTION_SPANS_DAYS, snapshots, their roll-ups and operation statistics: FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS).
 * Never deletes row by row; rows in the default partition are not touched.
 */
export async function runRetention(db: Database, config: MaintenanceConfig, nowMs: number): Promise<string[]> {
  const days: Record<(typeof PARTITIONED_TABLES)[number], number> = {
    trace_steps: config.FLOWSCOPE_RETENTION_SPANS_DAYS,
    performance_snapshots: config.FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS,
    // per-operation statistics (baselines) live as long as the snapshots they sit beside
    operation_stats: config.FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS,
    // roll-ups of the snapshots (five-minute and hour rows) go with them
    performance_rollups: config.FLOWSCOPE_RETENTION_SNAPSHOTS_DAYS,
  };
  const dropped: string[] = [];
  for (const table of PARTITIONED_TABLES) dropped.push(...(await dropExpiredPartitions(db, table, days[table], new Date(nowMs))));
  return dropped;
}

/**
 * Marks workflows still in progress after DEBUGGING_MAX_TRACE_DURATION as timed_out, with the
 * storage's definition (the collector owns the workflow lifecycle). Returns how many.
 */
/** Marks stale in-progress workflows timed out; returns their ids. */
export async function runWorkflowTimeouts(db: Database, config: MaintenanceConfig, nowMs: number): Promise<string[]> {
  return markTimedOutWorkflows(db, config.DEBUGGING_MAX_TRACE_DURATION, new Date(nowMs));
}

/**
 * Outbox rows left 'sending' after their last allowed attempt (a worker died during it and the
 * queue gave up on the job) become 'failed' once they have been idle for `idleMs`.
 */
export async function failAbandonedEmails(db: Database, config: MaintenanceConfig, nowMs: number, idleMs: number): Promise<number> {
  return failAbandonedOutbox(db, config.FLOWSCOPE_EMAIL_MAX_ATTEMPTS, new Date(nowMs - idleMs).toISOString());
}
