/** Shapes of the query API's answers that the UI reads (see query-api/README.md). */

export interface Workflow {
  workflow_id: string;
  workflow_type: string;
  status: 'in_progress' | 'completed' | 'failed' | 'timed_out' | string;
  user_id: string | null;
  first_trace_id: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  span_count: number;
  error_count: number;
  stored: boolean;
  top_suspect?: Suspect | null;
}

export interface SpanEvent {
  name: string;
  time: string;
  attributes: Record<string, unknown>;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  attributes?: Record<string, unknown>;
}

export interface ApiSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  workflow_id: string;
  workflow_type: string;
  layer: string;
  component: string;
  name: string;
  kind: number;
  status_code: number;
  status_message: string | null;
  is_error: boolean;
  start_time: string;
  end_time: string;
  duration_ms: number;
  self_ms: number;
  user_id: string | null;
  attributes: Record<string, unknown>;
  events: SpanEvent[];
  scope_name?: string | null;
  resource?: Record<string, unknown>;
  links?: SpanLink[];
  children: ApiSpan[];
}

export interface CriticalSegment {
  trace_id: string | null;
  span_id: string | null;
  name: string | null;
  layer: string | null;
  component: string | null;
  start_time: string;
  offset_ms: number;
  duration_ms: number;
}

export interface LayerTime {
  layer: string;
  self_ms: number;
  span_count: number;
  share: number;
}

export interface Suspect {
  span_id: string;
  trace_id: string;
  layer: string;
  component: string;
  operation: string;
  reason: 'error' | 'timeout' | 'slow';
  score: number;
  summary: string;
  duration_ms: number;
  self_ms: number;
  baseline_p50_ms: number | null;
  baseline_p95_ms: number | null;
  ratio: number | null;
  excess_ms: number | null;
  on_critical_path: boolean;
  error_type: string | null;
  error_message: string | null;
  downstream: string | null;
}

export interface ErrorEntry {
  id: number;
  trace_id: string | null;
  span_id: string | null;
  correlation_id?: string | null;
  workflow_type?: string | null;
  layer: string | null;
  component: string | null;
  span_name?: string | null;
  severity: string;
  error_type: string | null;
  message: string | null;
  stack?: string | null;
  occurred_at: string;
  resolved: boolean;
  resolved_by?: string | null;
  resolved_at?: string | null;
}

export interface Analysis {
  span_count: number;
  truncated: boolean;
  spans: ApiSpan[];
  layer_breakdown: LayerTime[];
  critical_path: { duration_ms: number; segments: CriticalSegment[] };
}

export interface WorkflowAnswer extends Analysis {
  workflow: Workflow;
  errors: ErrorEntry[];
  suspects?: Suspect[];
}

export interface TraceAnswer extends Analysis {
  trace_id: string;
  workflow_ids: string[];
}

export interface Page<T> {
  data: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Check {
  ok: boolean;
  status: number | null;
  detail: string;
}

export interface ComponentState {
  name: 'query-api' | 'collector' | 'alerting';
  where: 'this process' | 'remote' | 'not configured';
  url: string | null;
  health: Check | null;
  ready: Check | null;
  samples: Sample[];
  error: string | null;
}

export interface SystemAnswer {
  generated_at: string;
  probe_timeout_ms: number;
  components: ComponentState[];
}
