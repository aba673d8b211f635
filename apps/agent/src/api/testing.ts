import { after, before } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { importInputs } from '../import/importer';
import { LiveBus, type LiveBusOptions } from '../live/live-bus';
import { createAgentMetrics, type AgentMetrics } from '../metrics/metrics';
import { PostgresStore } from '../store/postgres/postgres-store';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { Store } from '../store/types';
import { corpusFile, scratchDir } from '../testing/harness';
import { createApiClient, type ApiClient } from './client';
import { startApiServer, type ApiServer } from './server';

/**
 * A real server on a loopback ephemeral port over a real store, for the API's tests: a SQLite
 * file, or a PostgreSQL database when `postgresUrl` names one (an empty database per fixture).
 */
export interface ApiFixture {
  store: Store;
  bus: LiveBus;
  metrics: AgentMetrics;
  server: ApiServer;
  client: (token?: string) => ApiClient;
  close(): Promise<void>;
}

export async function startFixture(
  options: { corpus?: string[]; token?: string; bus?: LiveBusOptions; postgresUrl?: string } = {},
): Promise<ApiFixture> {
  const scratch = scratchDir();
  const store = options.postgresUrl
    ? await PostgresStore.open(options.postgresUrl)
    : SqliteStore.open(scratch.db());
  const source = await store.source('corpus', 'import');
  if (options.corpus?.length) await importInputs(store, source, options.corpus.map(corpusFile));
  const registry = new Registry();
  const metrics = createAgentMetrics(registry);
  const bus = new LiveBus({ store, metrics, ...options.bus });
  const server = await startApiServer({
    store,
    bus,
    registry,
    listen: '127.0.0.1:0',
    token: options.token,
    logger: pino({ level: 'silent' }),
  });
  const clients: ApiClient[] = [];
  return {
    store,
    bus,
    metrics,
    server,
    client(token) {
      // Reconnect quickly: tests restart connections on purpose.
      const client = createApiClient({ url: server.url, token, retryDelayMs: () => 50 });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) await client.close();
      bus.close();
      await server.close();
      await store.close();
      scratch.remove();
    },
  };
}

/**
 * One fixture for the tests of the enclosing describe: started before them with the options
 * `optionsOf` gives then (a PostgreSQL URL is known only once its server runs), closed after.
 * The returned function gives the fixture inside a test.
 */
export function fixtureForTests(
  optionsOf: () => Parameters<typeof startFixture>[0],
): () => ApiFixture {
  let fixture: ApiFixture;
  before(async () => {
    fixture = await startFixture(optionsOf());
  });
  after(() => fixture.close());
  return () => fixture;
}
