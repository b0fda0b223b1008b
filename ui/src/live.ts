import { getToken } from './api.ts';

export interface LiveEvent {
  type: string;
  workflow_id?: string;
  workflow_type?: string;
  at: string;
  [k: string]: unknown;
}

export type LiveState = 'connecting' | 'live' | 'offline';

/**
 * The live stream (/ws/debugging/): subscribes to every workflow type (and alerts when asked),
 * reconnects with a growing delay. Browsers cannot set headers on a WebSocket, so the token goes
 * as the query API asks today (`?token=`); nothing else of it is kept or shown.
 */
export function connectLive(opts: { alerts?: boolean; onEvent: (e: LiveEvent) => void; onState: (s: LiveState) => void }): () => void {
  let socket: WebSocket | undefined;
  let closed = false;
  let delay = 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const open = () => {
    const token = getToken();
    if (closed || !token) return;
    opts.onState('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    socket = new WebSocket(`${proto}//${location.host}/ws/debugging/?token=${encodeURIComponent(token)}`);
    socket.onopen = () => {
      delay = 1000;
      socket?.send(JSON.stringify({ type: 'subscribe', workflow_types: ['*'], alerts: opts.alerts === true }));
    };
    socket.onmessage = (m) => {
      let msg: { type?: string; event?: LiveEvent };
      try {
        msg = JSON.parse(String(m.data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'subscribed') opts.onState('live');
      if (msg.type === 'event' && msg.event) opts.onEvent(msg.event);
    };
    socket.onclose = () => {
      socket = undefined;
      if (closed) return;
      opts.onState('offline');
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 30_000);
    };
  };
  open();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    socket?.close();
  };
}
