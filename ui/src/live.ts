import { getToken } from './api.ts';

export interface LiveEvent {
  type: string;
  workflow_id?: string;
  workflow_type?: string;
  at: string;
  [k: string]: unknown;
}

export type LiveState = 'connecting' | 'live' | 'offline';

/** The live stream's subprotocol, and the prefix of the one that carries the token (query-api/src/app.ts). */
export const WS_PROTOCOL = 'flowscope.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'flowscope.token.';

/**
 * The subprotocols a live-stream socket offers: `flowscope.v1` and `flowscope.token.<token>`.
 * Browsers cannot set headers on a WebSocket; a subprotocol is the one place besides the URL
 * (which proxies and access logs keep) where the token can go. The server answers with
 * `flowscope.v1` only, never echoing the token back.
 */
export const liveProtocols = (token: string): string[] => [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`];

/**
 * The live stream (/ws/debugging/): subscribes to every workflow type (and alerts when asked),
 * reconnects with a growing delay. The token travels as a subprotocol, never in the URL.
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
    try {
      socket = new WebSocket(`${proto}//${location.host}/ws/debugging/`, liveProtocols(token));
    } catch {
      // a token with characters a subprotocol cannot carry: no live stream (the REST pages still work)
      opts.onState('offline');
      return;
    }
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
