import {
  bigint,
  bigserial,
  boolean,
  doublePrecision,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

// Mirrors migrations/*.sql for typed queries. The SQL is the source of truth (partitioning,
// partial indexes and functions are beyond what drizzle-kit generates); test/storage.int.test.ts
// (test "every column of the drizzle schema exists…") checks that every column declared here
// exists in the migrated database with the same type.

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'string' });

export const traceSteps = pgTable(
  'trace_steps',
  {
    traceId: text('trace_id').notNull(),
    spanId: text('span_id').notNull(),
    parentSpanId: text('parent_span_id'),
    workflowId: text('workflow_id').notNull(),
    workflowType: text('workflow_type').notNull(),
    layer: text('layer').notNull(),
    component: text('component').notNull(),
    name: text('name').notNull(),
    kind: smallint('kind').notNull(),
    statusCode: smallint('status_code').notNull(),
    statusMessage: text('status_message'),
    isError: boolean('is_error').notNull(),
    startTime: tz('start_time').notNull(),
    endTime: tz('end_time').notNull(),
    durationMs: doublePrecision('duration_ms').notNull(),
    userId: text('user_id'),
    scopeName: text('scope_name'),
    attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull(),
    resource: jsonb('resource').$type<Record<string, unknown>>().notNull(),
    events: jsonb('events').$type<SpanEventJson[]>().notNull(),
    links: jsonb('links').$type<SpanLinkJson[]>().notNull(),
    ingestedAt: tz('ingested_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.traceId, t.spanId, t.startTime] })],
);

export interface SpanEventJson {
  name: string;
  /** ISO timestamp with microseconds. */
  time: string;
  attributes: Record<string, unknown>;
}

export interface SpanLinkJson {
  traceId: string;
  spanId: string;
  attributes: Record<string, unknown>;
}

export const workflowSessions = pgTable('workflow_sessions', {
  workflowId: text('workflow_id').primaryKey(),
  workflowType: text('workflow_type').notNull(),
  status: text('status').$type<WorkflowStatus>().notNull(),
  userId: text('user_id'),
  firstTraceId: text('first_trace_id'),
  startedAt: tz('started_at').notNull(),
  endedAt: tz('ended_at').notNull(),
  durationMs: doublePrecision('duration_ms'),
  spanCount: integer('span_count').notNull(),
  errorCount: integer('error_count').notNull(),
  keep: boolean('keep').notNull(),
  createdAt: tz('created_at').notNull(),
  updatedAt: tz('updated_at').notNull(),
});

export type WorkflowStatus = 'in_progress' | 'completed' | 'failed' | 'timed_out';

export const errorLogs = pgTable('error_logs', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  traceId: text('trace_id').notNull(),
  spanId: text('span_id').notNull(),
  seq: integer('seq').notNull(),
  correlationId: text('correlation_id').notNull(),
  workflowType: text('workflow_type').notNull(),
  layer: text('layer').notNull(),
  component: text('component').notNull(),
  spanName: text('span_name').notNull(),
  severity: text('severity').notNull(),
  errorType: text('error_type').notNull(),
  message: text('message').notNull(),
  stack: text('stack'),
  occurredAt: tz('occurred_at').notNull(),
  attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull(),
  resolved: boolean('resolved').notNull(),
  resolvedBy: text('resolved_by'),
  resolvedAt: tz('resolved_at'),
  createdAt: tz('created_at').notNull(),
});

/** The scope columns of the statistics tables (one row per workflow type × layer × component × …). */
const statScope = () => ({
  workflowType: text('workflow_type').notNull(),
  layer: text('layer').notNull(),
  component: text('component').notNull(),
});

/** The observation columns of the statistics tables: counts, sum, min/max and a histogram (histogram.ts). */
const statValues = () => ({
  count: bigint('count', { mode: 'number' }).notNull(),
  errorCount: bigint('error_count', { mode: 'number' }).notNull(),
  sum: doublePrecision('sum').notNull(),
  min: doublePrecision('min'),
  max: doublePrecision('max'),
  buckets: bigint('buckets', { mode: 'number' }).array().notNull(),
});

export const performanceSnapshots = pgTable(
  'performance_snapshots',
  { bucketStart: tz('bucket_start').notNull(), ...statScope(), metric: text('metric').notNull(), ...statValues() },
  (t) => [primaryKey({ columns: [t.bucketStart, t.workflowType, t.layer, t.component, t.metric] })],
);

export const performanceRollups = pgTable(
  'performance_rollups',
  {
    bucketStart: tz('bucket_start').notNull(),
    bucketSeconds: integer('bucket_seconds').notNull(),
    ...statScope(),
    metric: text('metric').notNull(),
    ...statValues(),
  },
  (t) => [primaryKey({ columns: [t.bucketSeconds, t.bucketStart, t.workflowType, t.layer, t.component, t.metric] })],
);

export const operationStats = pgTable(
  'operation_stats',
  {
    bucketStart: tz('bucket_start').notNull(),
    bucketSeconds: integer('bucket_seconds').notNull(),
    ...statScope(),
    operation: text('operation').notNull(),
    ...statValues(),
    selfSum: doublePrecision('self_sum').notNull(),
    selfBuckets: bigint('self_buckets', { mode: 'number' }).array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.bucketStart, t.bucketSeconds, t.workflowType, t.layer, t.component, t.operation] })],
);

export const alertRules = pgTable('alert_rules', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  description: text('description').notNull().default(''),
  metric: text('metric').notNull(),
  workflowType: text('workflow_type'),
  layer: text('layer'),
  component: text('component'),
  warningThreshold: doublePrecision('warning_threshold'),
  criticalThreshold: doublePrecision('critical_threshold'),
  windowSeconds: integer('window_seconds').notNull().default(300),
  evalIntervalSeconds: integer('eval_interval_seconds').notNull().default(15),
  recipients: text('recipients').array().notNull().default(sql`'{}'`),
  enabled: boolean('enabled').notNull().default(true),
  source: text('source').notNull().default('user'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
});

export const alerts = pgTable('alerts', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  ruleId: integer('rule_id').notNull(),
  scopeKey: text('scope_key').notNull().default(''),
  severity: text('severity').$type<'warning' | 'critical'>().notNull(),
  state: text('state').$type<'firing' | 'resolved'>().notNull(),
  value: doublePrecision('value').notNull(),
  threshold: doublePrecision('threshold').notNull(),
  firstSeen: tz('first_seen').notNull(),
  lastSeen: tz('last_seen').notNull(),
  resolvedAt: tz('resolved_at'),
  notificationStatus: text('notification_status').notNull().default('pending'),
  lastNotifiedAt: tz('last_notified_at'),
  createdAt: tz('created_at').notNull().defaultNow(),
});

export const emailOutbox = pgTable('email_outbox', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  alertId: bigint('alert_id', { mode: 'number' }),
  idempotencyKey: text('idempotency_key').unique(),
  recipients: text('recipients').array().notNull(),
  subject: text('subject').notNull(),
  bodyText: text('body_text').notNull(),
  bodyHtml: text('body_html'),
  status: text('status').$type<'pending' | 'sending' | 'sent' | 'failed' | 'unsent'>().notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  lastError: text('last_error'),
  createdAt: tz('created_at').notNull().defaultNow(),
  updatedAt: tz('updated_at').notNull().defaultNow(),
  sentAt: tz('sent_at'),
});

export const apiTokens = pgTable('api_tokens', {
  id: serial('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role').$type<'admin' | 'viewer'>().notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  tokenPrefix: text('token_prefix').notNull(),
  createdAt: tz('created_at').notNull().defaultNow(),
  lastUsedAt: tz('last_used_at'),
  revokedAt: tz('revoked_at'),
});

// Row types: what a full select of each table returns (the single source of row types; readers
// derive their answers from these, see SnakeRow in sql.ts).
export type SpanStepRecord = typeof traceSteps.$inferSelect;
export type WorkflowSessionRecord = typeof workflowSessions.$inferSelect;
export type ErrorLogRecord = typeof errorLogs.$inferSelect;
export type PerformanceSnapshotRecord = typeof performanceSnapshots.$inferSelect;
export type OperationStatRecord = typeof operationStats.$inferSelect;
export type AlertRuleRecord = typeof alertRules.$inferSelect;
export type AlertRecord = typeof alerts.$inferSelect;
export type EmailOutboxRecord = typeof emailOutbox.$inferSelect;
export type ApiTokenRecord = typeof apiTokens.$inferSelect;
