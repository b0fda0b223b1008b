export { queryApiConfigShape, type QueryApiConfig } from './config.ts';
export { buildQueryApi, API_PREFIX, type QueryApiDeps } from './app.ts';
export {
  ensureAdminToken, createToken, listTokens, revokeToken, authenticate, hashToken, generateToken, ROLES,
  type Role, type TokenInfo, type Principal,
} from './tokens.ts';
export {
  publishEvent, LocalEventBus, RedisEventBus, eventsChannel, parseLiveEvent, WORKFLOW_EVENT_TYPES, ALERT_EVENT_TYPES,
  type EventBus, type LiveEvent, type WorkflowEvent, type AlertEvent, type WorkflowEventType, type AlertEventType,
} from './events.ts';
export { buildTree, criticalPath, DEFAULT_OVERLAP_TOLERANCE_US, layerBreakdown, type SpanNode, type SpanNodeInput, type CriticalSegment, type LayerTime } from './analysis.ts';
export { toJaegerTraces, parseGoDuration, type JaegerTrace, type JaegerSpan, type JaegerKeyValue } from './routes/jaeger.ts';
export { findSuspects, downstreamOf, type Suspect, type SuspectReason, type SuspectSpanInput, type OperationBaseline, type BaselineLookup } from './suspects.ts';
