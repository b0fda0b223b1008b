import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';

/**
 * Live events: what the collector (workflow lifecycle) and the alerting worker (alert state
 * changes) announce, and what /ws/debugging/ clients receive.
 *
 * Transport: with Redis, events are PUBLISHed on one channel (`<prefix>events`) and every
 * query-api replica SUBSCRIBEs to it, so a client connected to any replica sees every event.
 * Without Redis (all-in-one), a LocalEventBus in the same process does the same job.
 * Delivery is best effort (pub/sub semantics): an event is a notification, the database
 * stays the record.
 */
export type WorkflowEventType = 'workflow.started' | 'workflow.completed' | 'workflow.failed' | 'workflow.timed_out';
export type AlertEventType = 'alert.firing' | 'alert.resolved';

export interface WorkflowEvent {
  type: WorkflowEventType;
  workflow_id: string;
  workflow_type: string;
  /** ISO-8601 time of the change. */
  at: string;
  trace_id?: string | undefined;
  user_id?: string | null | undefined;
  duration_ms?: number | null | undefined;
  error_count?: number | undefined;
}

export interface AlertEvent {
  type: AlertEventType;
  alert_id: number;
  rule_id: number;
  rule_name: string;
  severity: 'warning' | 'critical';
  value: number;
  threshold: number;
  at: string;
  workflow_type?: string | null | undefined;
  layer?: string | null | undefined;
  component?: string | null | undefined;
  scope_key?: string | undefined;
}

export type LiveEvent = WorkflowEvent | AlertEvent;

export const WORKFLOW_EVENT_TYPES: readonly WorkflowEventType[] = [
  'workflow.started',
  'workflow.completed',
  'workflow.failed',
  'workflow.timed_out',
];
export const ALERT_EVENT_TYPES: readonly AlertEventType[] = ['alert.firing', 'alert.resolved'];

export const isWorkflowEvent = (e: LiveEvent): e is WorkflowEvent => e.type.startsWith('workflow.');

/** Checks the shape of an event that came from outside the process (Redis). */
export function parseLiveEvent(raw: unknown): LiveEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const e = raw as Record<string, unknown>;
  if (typeof e.type !== 'string' || typeof e.at !== 'string') return null;
  if ((WORKFLOW_EVENT_TYPES as readonly string[]).includes(e.type)) {
    if (typeof e.workflow_id !== 'string' || typeof e.workflow_type !== 'string') return null;
    return e as unknown as WorkflowEvent;
  }
  if ((ALERT_EVENT_TYPES as readonly string[]).includes(e.type)) {
    if (typeof e.alert_id !== 'number' || typeof e.rule_id !== 'number') return null;
    return e as unknown as AlertEvent;
  }
  return null;
}

export type EventListener = (event: LiveEvent) => void;

export interface EventBus {
  publish(event: LiveEvent): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/** In-process bus (all-in-one without Redis, and tests). */
export class LocalEventBus implements EventBus {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  async publish(event: LiveEvent): Promise<void> {
    this.emitter.emit('event', event);
  }
  subscribe(listener: EventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export const eventsChannel = (prefix = 'flowscope:') => `${prefix}events`;

/**
 * Redis pub/sub bus. `redis` is used to PUBLISH; a duplicate connection is opened on the first
 * subscribe (a subscribed connection can run nothing else) and closed by close().
 */
export class RedisEventBus implements EventBus {
  private readonly local = new LocalEventBus();
  private subscriber: Redis | undefined;
  private subscribing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    readonly channel: string,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async publish(event: LiveEvent): Promise<void> {
    await this.redis.publish(this.channel, JSON.stringify(event));
  }

  subscribe(listener: EventListener): () => void {
    const off = this.local.subscribe(listener);
    this.ready().catch(this.onError);
    return off;
  }

  /** Resolves once the SUBSCRIBE is acknowledged (events published after that are received). */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('event bus is closed'));
    this.subscribing ??= (async () => {
      const sub = this.redis.duplicate();
      this.subscriber = sub;
      sub.on('error', this.onError);
      sub.on('message', (channel: string, message: string) => {
        if (channel !== this.channel) return;
        let parsed: LiveEvent | null = null;
        try {
          parsed = parseLiveEvent(JSON.parse(message));
        } catch {
          parsed = null;
        }
        if (parsed) void this.local.publish(parsed);
      });
      await sub.subscribe(this.channel);
    })();
    return this.subscribing;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.local.close();
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) {
      await this.subscribing?.catch(() => undefined);
      sub.disconnect();
    }
  }
}

const isRedis = (t: unknown): t is Redis =>
  typeof t === 'object' && t !== null && typeof (t as Redis).publish === 'function' && typeof (t as Redis).duplicate === 'function';

/**
 * What the collector and the alerting worker call to announce an event: either a Redis
 * connection (published on `<prefix>events`, FLOWSCOPE_REDIS_PREFIX) or the in-process bus
 * the all-in-one shares with its query API.
 */
export async function publishEvent(target: Redis | EventBus, event: LiveEvent, options: { prefix?: string } = {}): Promise<void> {
  if (isRedis(target)) {
    await target.publish(eventsChannel(options.prefix), JSON.stringify(event));
    return;
  }
  await target.publish(event);
}
