import type { LiveMessage } from '@tusafishe/gateway/api';

export type LiveState = 'connecting' | 'live' | 'offline';

const MAX_RETRY_MS = 15_000;
const KEEP_RECENT = 100;

/**
 * The gateway's live websocket, reconnecting with backoff (the kiosk WiFi drops). Components
 * listen for `message` (CustomEvent<LiveMessage>) and `state` (CustomEvent<LiveState>).
 */
class LiveFeedClient extends EventTarget {
  private socket: WebSocket | null = null;
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  state: LiveState = 'offline';
  /** Messages since sign-in, newest last, so a page opened later still shows them. */
  readonly recent: LiveMessage[] = [];

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
    this.recent.length = 0;
    this.setState('offline');
  }

  private connect(): void {
    this.setState('connecting');
    const url = new URL('/api/live', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 1000;
      this.setState('live');
    };
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data)) as LiveMessage;
      this.recent.push(message);
      if (this.recent.length > KEEP_RECENT) this.recent.shift();
      this.dispatchEvent(new CustomEvent<LiveMessage>('message', { detail: message }));
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.setState('offline');
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
  }

  private setState(state: LiveState): void {
    this.state = state;
    this.dispatchEvent(new CustomEvent<LiveState>('state', { detail: state }));
  }
}

export const liveFeed = new LiveFeedClient();

/** Subscribes to live messages; returns the unsubscribe function for disconnectedCallback. */
export function onLiveMessage(listener: (message: LiveMessage) => void): () => void {
  const handler = (event: Event): void => listener((event as CustomEvent<LiveMessage>).detail);
  liveFeed.addEventListener('message', handler);
  return () => liveFeed.removeEventListener('message', handler);
}
