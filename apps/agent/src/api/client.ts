import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  type TRPCClient,
} from '@trpc/client';
import { liveBatchLink } from '@proctrail/schema/live-batch-link';
import WebSocket from 'ws';
import type { AppRouter } from './router';

export interface ApiClientOptions {
  /** The agent's base URL, such as http://127.0.0.1:7070. */
  url: string;
  token?: string;
  /** Called when the WebSocket upgrade is refused with 401: retrying will not help. */
  onUnauthorized?: () => void;
  /** Milliseconds before reconnect attempt `n` (0-based); tRPC's backoff by default. */
  retryDelayMs?: (attempt: number) => number;
  /** Told when the WebSocket opens, and when an attempt to open or keep it fails. */
  onSocketOpen?: () => void;
  onSocketError?: () => void;
}

export interface ApiClient {
  trpc: TRPCClient<AppRouter>;
  close(): Promise<void>;
}

/** ws://HOST:PORT/trpc for http://HOST:PORT (wss for https). */
export function webSocketUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/$/, '')}/trpc`;
  return url.toString();
}

/**
 * A tRPC client for Node: queries over HTTP, subscriptions over a WebSocket (Node 20 has no
 * global WebSocket, so the `ws` package's is used, which can also send the token header).
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const headers: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};
  class AuthorizedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
      this.on('unexpected-response', (_req, res) => {
        if (res.statusCode === 401) options.onUnauthorized?.();
        this.emit('error', new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`));
        res.resume();
      });
    }
  }
  const wsClient = createWSClient({
    url: webSocketUrl(options.url),
    WebSocket: AuthorizedWebSocket as unknown as typeof globalThis.WebSocket,
    ...(options.retryDelayMs ? { retryDelayMs: options.retryDelayMs } : {}),
    onOpen: () => options.onSocketOpen?.(),
    onError: () => options.onSocketError?.(),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      // event.live subscriptions travel as event.liveBatches: one message per batch of events.
      liveBatchLink(),
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpBatchLink({ url: `${options.url.replace(/\/$/, '')}/trpc`, headers }),
      }),
    ],
  });
  return { trpc, close: () => wsClient.close() };
}
