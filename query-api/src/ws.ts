import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Counter, Gauge } from 'prom-client';
import type { QueryApiConfig } from './config.ts';
import { WORKFLOW_EVENT_TYPES, isWorkflowEvent, type EventBus, type LiveEvent, type WorkflowEventType } from './events.ts';

/** What one client asked for. Nothing is sent until the client subscribes (or asks in the URL). */
export interface Subscription {
  /** Workflow types whose events to send; "*" means every type. Empty: no workflow events. */
  workflow_types: string[];
  /** Which lifecycle events; default all four. */
  workflow_events: WorkflowEventType[];
  alerts: boolean;
}

export const matches = (s: Subscription, e: LiveEvent): boolean =>
  isWorkflowEvent(e)
    ? s.workflow_events.includes(e.type) && (s.workflow_types.includes('*') || s.workflow_types.includes(e.workflow_type))
    : s.alerts;

const MAX_TYPES = 100;

/** Parses a subscribe message; returns an error message for a bad one. */
export function parseSubscription(msg: Record<string, unknown>): Subscription | string {
  const types = msg.workflow_types ?? [];
  if (!Array.isArray(types) || types.length > MAX_TYPES || !types.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 256)) {
    return `workflow_types must be an array of at most ${MAX_TYPES} non-empty strings ("*" for all)`;
  }
  const events = msg.workflow_events ?? WORKFLOW_EVENT_TYPES;
  if (!Array.isArray(events) || !events.every((e) => (WORKFLOW_EVENT_TYPES as readonly unknown[]).includes(e))) {
    return `workflow_events must be a subset of ${WORKFLOW_EVENT_TYPES.join(', ')}`;
  }
  if (msg.alerts !== undefined && typeof msg.alerts !== 'boolean') return 'alerts must be true or false';
  return { workflow_types: types as string[], workflow_events: events as WorkflowEventType[], alerts: msg.alerts === true };
}

export interface WsMetrics {
  clients: Gauge;
  dropped: Counter<'reason'>;
  sent: Counter;
}

/**
 * The live stream. One bus subscription per replica fans events out to its clients. A client
 * whose socket holds more than FLOWSCOPE_WS_MAX_BUFFER_BYTES of unsent data is disconnected
 * (close code 1013, "try again later") instead of letting its backlog grow: a live view that
 * cannot keep up is better reconnected than fed stale events without bound.
 */
export function liveStreamRoutes(app: FastifyInstance, bus: EventBus, config: QueryApiConfig, metrics: WsMetrics): void {
  const clients = new Map<WebSocket, Subscription>();
  const maxBuffer = config.FLOWSCOPE_WS_MAX_BUFFER_BYTES;

  const send = (socket: WebSocket, payload: string) => {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount + payload.length > maxBuffer) {
      clients.delete(socket);
      metrics.clients.set(clients.size);
      metrics.dropped.inc({ reason: 'slow_client' });
      app.log.warn({ buffered: socket.bufferedAmount, limit: maxBuffer }, 'live stream client too slow: disconnected');
      socket.close(1013, 'too slow: buffer limit exceeded');
      // a client that does not read will not complete the closing handshake either
      setTimeout(() => socket.terminate(), 1000).unref();
      return;
    }
    socket.send(payload);
    metrics.sent.inc();
  };

  let unsubscribe: (() => void) | undefined;
  app.addHook('onReady', async () => {
    unsubscribe = bus.subscribe((event) => {
      if (clients.size === 0) return;
      let payload: string | undefined;
      for (const [socket, sub] of clients) {
        if (!matches(sub, event)) continue;
        payload ??= JSON.stringify({ type: 'event', event });
        send(socket, payload);
      }
    });
  });
  app.addHook('onClose', async () => {
    unsubscribe?.();
    for (const socket of clients.keys()) socket.close(1001, 'server shutting down');
    clients.clear();
  });

  app.get<{ Querystring: { workflow_type?: string; alerts?: boolean; token?: string } }>(
    '/ws/debugging/',
    {
      websocket: true,
      config: { queryToken: true },
      schema: {
        tags: ['live'],
        summary:
          'Live stream (WebSocket). Send {"type":"subscribe","workflow_types":["checkout"|"*"],"workflow_events":[…],"alerts":true}; receive {"type":"event","event":{…}}',
        querystring: {
          type: 'object',
          properties: {
            workflow_type: { type: 'string', maxLength: 4096, description: 'comma-separated types to subscribe to at once ("*" for all)' },
            alerts: { type: 'boolean' },
            token: { type: 'string', maxLength: 512, description: 'for browsers, which cannot set Authorization on a WebSocket' },
          },
        },
      },
    },
    (socket, req) => {
      if (clients.size >= config.FLOWSCOPE_WS_MAX_CLIENTS) {
        metrics.dropped.inc({ reason: 'too_many_clients' });
        socket.close(1013, 'too many clients');
        return;
      }
      const initial = parseSubscription({
        workflow_types: req.query.workflow_type ? req.query.workflow_type.split(',').filter((t) => t !== '') : [],
        alerts: req.query.alerts ?? false,
      });
      clients.set(socket, typeof initial === 'string' ? { workflow_types: [], workflow_events: [...WORKFLOW_EVENT_TYPES], alerts: false } : initial);
      metrics.clients.set(clients.size);
      socket.on('close', () => {
        clients.delete(socket);
        metrics.clients.set(clients.size);
      });
      socket.on('error', () => socket.terminate());
      socket.on('message', (data, isBinary) => {
        if (!clients.has(socket)) return;
        let msg: unknown;
        try {
          msg = isBinary ? undefined : JSON.parse(String(data));
        } catch {
          msg = undefined;
        }
        if (typeof msg !== 'object' || msg === null) return send(socket, JSON.stringify({ type: 'error', message: 'messages are JSON objects' }));
        const m = msg as Record<string, unknown>;
        if (m.type === 'ping') return send(socket, JSON.stringify({ type: 'pong' }));
        if (m.type === 'unsubscribe') {
          clients.set(socket, { workflow_types: [], workflow_events: [...WORKFLOW_EVENT_TYPES], alerts: false });
          return send(socket, JSON.stringify({ type: 'subscribed', subscription: clients.get(socket) }));
        }
        if (m.type !== 'subscribe') return send(socket, JSON.stringify({ type: 'error', message: 'type must be subscribe, unsubscribe or ping' }));
        const sub = parseSubscription(m);
        if (typeof sub === 'string') return send(socket, JSON.stringify({ type: 'error', message: sub }));
        clients.set(socket, sub);
        send(socket, JSON.stringify({ type: 'subscribed', subscription: sub }));
      });
      send(socket, JSON.stringify({ type: 'welcome', subscription: clients.get(socket) }));
    },
  );
}
