// Live events are shared by the collector, the alerting worker and the query API: they live in
// @flowscope/common; this module keeps the query API's import paths.
export {
  publishEvent,
  LocalEventBus,
  RedisEventBus,
  eventsChannel,
  parseLiveEvent,
  isWorkflowEvent,
  WORKFLOW_EVENT_TYPES,
  ALERT_EVENT_TYPES,
  type EventBus,
  type EventListener,
  type LiveEvent,
  type WorkflowEvent,
  type AlertEvent,
  type WorkflowEventType,
  type AlertEventType,
} from '@flowscope/common';
