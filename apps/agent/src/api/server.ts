import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import type { DetectionBus } from '../detection/detection-bus';
import type { LiveBus } from '../live/live-bus';
import type { Store } from '../store/types';
import { isAuthorized } from './auth';
import type { ApiContext, PipelineStatsProvider } from './context';
import { healthOf } from './health';
import { checkExposure, DEFAULT_LISTEN, parseListen } from './listen-address';
import { appRouter } from './router';

export interface ApiServerOptions {
  store: Store;
  bus: LiveBus;
  /** Detections as they are stored, for detection.live; without it the subscription is idle. */
  detections?: DetectionBus;
  /** Served at /metrics; the pipeline registers its own metrics on it (see metrics/). */
  registry: Registry;
  /** HOST:PORT; 127.0.0.1:7070 by default. Anything but loopback requires `token`. */
  listen?: string;
  token?: string;
  logger: Logger;
  stats?: PipelineStatsProvider;
  /** The prevention policies in force, for policy.list. */
  policies?: ApiContext['policies'];
}

export interface ApiServer {
  /** http://HOST:PORT, with the port actually bound. */
  url: string;
  host: string;
  port: number;
  /** Ends subscriptions and connections, then stops listening. */
  close(): Promise<void>;
}

/** WebSocket keep-alive: a peer that misses a pong this long after a ping is gone. */
const PING_MS = 30_000;
const PONG_WAIT_MS = 10_000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function rejectUpgrade(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Serves the API on one port: tRPC queries over HTTP at /trpc, tRPC subscriptions over a
 * WebSocket upgrade at /trpc, Prometheus metrics at /metrics and a health check at /healthz.
 * With a token, every request but /healthz must carry it; /healthz stays open for probes
 * (a kubelet or load balancer rarely holds a secret) and then says only whether the server
 * and its store answer.
 */
export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const address = parseListen(options.listen ?? DEFAULT_LISTEN);
  checkExposure(address, options.token);
  const logger = options.logger.child({ stage: 'api' });
  const context: ApiContext = {
    store: options.store,
    bus: options.bus,
    detections: options.detections,
    stats: options.stats,
    policies: options.policies,
    logger,
  };
  const startedAtMs = Date.now();

  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: '/trpc/',
    createContext: () => context,
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') logger.error({ err: error, path }, 'API error');
    },
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const authorized = isAuthorized(req, options.token);
    if (path === '/healthz') {
      const backlog = options.stats?.backlog?.();
      const health = await healthOf(options.store, startedAtMs, authorized, backlog);
      sendJson(res, health.ok ? 200 : 503, health);
      return;
    }
    if (!authorized) {
      res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, 401, { error: 'missing or wrong token (Authorization: Bearer TOKEN)' });
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(await options.registry.metrics());
      return;
    }
    if (path.startsWith('/trpc/')) {
      trpc(req, res);
      return;
    }
    sendJson(res, 404, { error: `no such path: ${path}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true });
  const wssHandler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: () => context,
    keepAlive: { enabled: true, pingMs: PING_MS, pongWaitMs: PONG_WAIT_MS },
  });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/trpc' && path !== '/trpc/') return rejectUpgrade(socket, '404 Not Found');
    if (!isAuthorized(req, options.token, true)) {
      return rejectUpgrade(socket, '401 Unauthorized');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const url = `http://${host}:${bound.port}`;
  logger.info({ url, auth: options.token ? 'token' : 'none' }, 'API listening');

  return {
    url,
    host: bound.address,
    port: bound.port,
    async close() {
      wssHandler.broadcastReconnectNotification();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      logger.info({ url }, 'API stopped');
    },
  };
}
