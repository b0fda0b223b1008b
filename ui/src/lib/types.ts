/**
 * The query API's answers as the UI reads them: aliases into api.gen.ts, which is generated from
 * the API's OpenAPI document (query-api/test/ui-api-types.int.test.ts fails while it is stale).
 * Type-only: nothing here reaches the bundle. The only shapes written by hand are the parts the
 * API's schemas leave open (span events and links, the span tree's children).
 */
import type { paths } from './api.gen.ts';

/** The JSON body of a 200 answer of GET `P`. */
export type Answer<P extends keyof paths> = paths[P] extends { get: { responses: { 200: { content: { 'application/json': infer T } } } } } ? T : never;

type Api<S extends string> = Answer<`/api/v1/debugging${S}` & keyof paths>;

export type WorkflowPage = Api<'/workflows'>;
export type Workflow = WorkflowPage['data'][number];
export type Suspect = NonNullable<Workflow['top_suspect']>;
export type ErrorEntry = Api<'/errors'>['data'][number];
export type WorkflowStats = Api<'/workflow-stats'>;
export type Health = Api<'/health'>;
export type Me = Api<'/me'>;
export type SystemAnswer = Api<'/system'>;
export type ComponentState = SystemAnswer['components'][number];
export type Sample = ComponentState['samples'][number];
export type Check = NonNullable<ComponentState['health']>;
export type PerfAnswer = Api<'/performance'>;
export type PerfPoint = PerfAnswer['series'][number]['points'][number];
export type AlertRow = Api<'/alerts'>['data'][number];
export type Rule = Api<'/alert-rules'>['data'][number];
export type EmailRow = Api<'/email-outbox'>['data'][number];

type RawWorkflowAnswer = Api<'/workflows/{workflowId}'>;
type RawTraceAnswer = Api<'/traces/{traceId}'>;
type RawSpan = RawWorkflowAnswer['spans'][number];

/** A span event (the API's schema leaves its items open; the collector stores these keys). */
export interface SpanEvent {
  name: string;
  time: string;
  attributes: Record<string, unknown>;
}

/** A span link (open in the API's schema, as stored by the collector). */
export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes?: Record<string, unknown>;
}

/** A span of a workflow or trace answer, with its children (a tree the schema cannot say). */
export type ApiSpan = Omit<RawSpan, 'events' | 'links' | 'children'> & { events: SpanEvent[]; links: SpanLink[]; children: ApiSpan[] };
export type CriticalSegment = RawWorkflowAnswer['critical_path']['segments'][number];
export type LayerTime = RawWorkflowAnswer['layer_breakdown'][number];

/** What a workflow answer and a trace answer share. */
export type Analysis = Omit<RawTraceAnswer, 'spans' | 'trace_id' | 'workflow_ids'> & { spans: ApiSpan[] };
/** The workflow answer; its errors are the /errors rows of the workflow (open objects in its schema). */
export type WorkflowAnswer = Omit<RawWorkflowAnswer, 'spans' | 'errors'> & { spans: ApiSpan[]; errors: ErrorEntry[] };
export type TraceAnswer = Omit<RawTraceAnswer, 'spans'> & { spans: ApiSpan[] };

export interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}
