import type { z } from 'zod';
import { redisConfigShape, retryAfterConfigShape, envBool, envInt, envNumber, envString, envUrl } from '@flowscope/common';

/**
 * The query API's configuration fragment. main.ts (and all-in-one) merge it with the other
 * fragments and parse the environment once; nothing in this package reads process.env.
 */
export const queryApiConfigShape = {
  ...redisConfigShape,
  FLOWSCOPE_QUERY_PORT: envInt(8000, 0, 65535).describe('Query API port (REST, Jaeger API, live stream, /docs).'),
  FLOWSCOPE_QUERY_HOST: envString('0.0.0.0').describe('Address the query API listens on.'),
  WEBSOCKET_ENABLED: envBool(true).describe('Serve the live stream at /ws/debugging/.'),
  FLOWSCOPE_ADMIN_TOKEN: envString().describe('An admin token to accept (created at first start when no such token exists).'),
  FLOWSCOPE_RATE_LIMIT_MAX: envInt(1200, 1, 1_000_000).describe('Requests per token per window; answered 429 with Retry-After beyond it.'),
  FLOWSCOPE_RATE_LIMIT_WINDOW_MS: envInt(60_000, 1000, 86_400_000).describe('Window of the per-token rate limit.'),
  FLOWSCOPE_QUERY_HEALTH_CACHE_MS: envInt(5000, 0, 3_600_000).describe('How long GET /api/v1/debugging/health answers from its cache.'),
  FLOWSCOPE_QUERY_MAX_PAGE_SIZE: envInt(500, 1, 10_000).describe('Hard maximum of `limit` on every list endpoint.'),
  FLOWSCOPE_QUERY_DEFAULT_PAGE_SIZE: envInt(50, 1, 10_000).describe('Page size when a list request gives no limit.'),
  FLOWSCOPE_QUERY_MAX_SPANS: envInt(10_000, 1, 1_000_000).describe('Spans returned for one workflow or trace; beyond it the answer says `truncated`.'),
  FLOWSCOPE_BASELINE_WINDOW_HOURS: envInt(24, 1, 24 * 366).describe('Hours of per-operation statistics before a workflow (its suspects) or an alert window (its causes, in the email and on GET /alerts/{id}) that make the baselines they are compared with.'),
  FLOWSCOPE_ALERT_CAUSES_MAX: envInt(3, 0, 50).describe('Operations (latency alerts) or error origins (error-rate alerts) an alert email and GET /alerts/{id} list as `causes`, each with an example workflow; 0 lists none.'),
  FLOWSCOPE_BASELINE_CACHE_MS: envInt(30_000, 0, 3_600_000).describe('How long baselines read for one workflow type are reused.'),
  FLOWSCOPE_SUSPECTS_MAX: envInt(10, 1, 1000).describe('Most suspects in a workflow or trace answer.'),
  FLOWSCOPE_CRITICAL_PATH_TOLERANCE_MS: envNumber(1, 0, 60_000).describe('A child that overlaps its next sibling (or its parent\'s next step) by up to this much is still on the critical path (millisecond-rounded SDK clocks, skew between hosts).'),
  FLOWSCOPE_TOP_SUSPECT_MAX_WORKFLOWS: envInt(50, 0, 10_000).describe('Failed or slow workflows per list page whose `top_suspect` is computed; the rest get null.'),
  FLOWSCOPE_TOP_SUSPECT_MAX_SPANS: envInt(2000, 1, 1_000_000).describe('Workflows with more spans than this get `top_suspect: null` in the list (open the workflow for its suspects).'),
  FLOWSCOPE_QUERY_MAX_POINTS: envInt(2000, 1, 100_000).describe('Points per performance series ((to - from) / step).'),
  FLOWSCOPE_JAEGER_MAX_TRACES: envInt(500, 1, 10_000).describe('Traces one Jaeger search may return.'),
  FLOWSCOPE_QUERY_DOCS_PUBLIC: envBool(false).describe('Serve /docs without a token (the OpenAPI document reveals no data).'),
  FLOWSCOPE_WS_MAX_BUFFER_BYTES: envInt(1_048_576, 1024, 1_073_741_824).describe('A live-stream client whose unsent data exceeds this many bytes is disconnected.'),
  FLOWSCOPE_WS_CLOSE_GRACE_MS: envInt(2000, 0, 60_000).describe('At shutdown, how long live-stream clients have to answer the close frame before their connections are cut.'),
  FLOWSCOPE_WS_MAX_CLIENTS: envInt(1000, 1, 1_000_000).describe('Most live-stream clients at once.'),
  FLOWSCOPE_COLLECTOR_URL: envUrl().describe('Base URL of the collector\'s HTTP port (its /health, /ready and /metrics), which GET /api/v1/debugging/system and the UI\'s System page read server-side; the all-in-one reads its own collector when unset.'),
  FLOWSCOPE_ALERTING_URL: envUrl().describe('Base URL of the alerting worker\'s /health, /ready and /metrics (FLOWSCOPE_ALERTING_METRICS_PORT), read like FLOWSCOPE_COLLECTOR_URL; in the all-in-one the worker shares the query API\'s process.'),
  FLOWSCOPE_SYSTEM_PROBE_TIMEOUT_MS: envInt(2000, 50, 60_000).describe('How long GET /system waits for each answer of another process (and for this one\'s readiness checks).'),
  FLOWSCOPE_SYSTEM_PROBE_MAX_BYTES: envInt(1_048_576, 1024, 67_108_864).describe('Largest answer GET /system reads from another process\'s /health, /ready or /metrics.'),
  ...retryAfterConfigShape,
};

export type QueryApiConfig = z.output<z.ZodObject<typeof queryApiConfigShape>>;
