export * from './driver.ts';
export * from './migrate.ts';
export * from './partitions.ts';
export * from './spans.ts';
export * from './open.ts';
export * from './copy.ts';
export * as schema from './schema.ts';
export type { SpanEventJson, SpanLinkJson, WorkflowStatus } from './schema.ts';
export * from './histogram.ts';
