import type { Command } from 'commander';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULT_LISTEN } from '../api/listen-address';
import { startApiServer } from '../api/server';
import { LiveBus } from '../live/live-bus';
import { createAgentMetrics } from '../metrics/metrics';
import { addDatabaseOption, describeStore, openStore } from './options';

/** --token, else $PROCTRAIL_TOKEN; undefined when neither is set. */
export function tokenFrom(option: string | undefined): string | undefined {
  return option ?? process.env.PROCTRAIL_TOKEN;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerServeCommand(program: Command): void {
  addDatabaseOption(
    program
      .command('serve')
      .description(
        'serve a database over the API (tRPC over HTTP and WebSocket, /metrics, /healthz)',
      )
      .option('--listen <host:port>', 'address to listen on', DEFAULT_LISTEN)
      .option('--token <token>', 'require this bearer token (default: $PROCTRAIL_TOKEN)'),
  ).action(async (options) => {
    // Logs go to standard error, so standard output stays free for what commands print.
    const logger = pino({ level: process.env.PROCTRAIL_LOG_LEVEL ?? 'info' }, pino.destination(2));
    const store = await openStore(options);
    const registry = new Registry();
    const bus = new LiveBus({ store, metrics: createAgentMetrics(registry) });
    try {
      const server = await startApiServer({
        store,
        bus,
        registry,
        listen: options.listen,
        token: tokenFrom(options.token),
        logger,
      });
      logger.info({ db: describeStore(options), url: server.url }, 'serving');
      const signal = await stopSignal();
      logger.info({ signal }, 'stopping');
      bus.close();
      await server.close();
    } finally {
      await store.close();
    }
  });
}
