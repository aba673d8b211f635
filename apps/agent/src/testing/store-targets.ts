/**
 * The stores one storage test suite runs against: SQLite files in a scratch directory, and
 * databases of one throwaway PostgreSQL server. A suite asks for a fresh store by name and
 * gets the CLI arguments that name it (`--db FILE` or `--store URL`) and a way to open it.
 */
import { after, before } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openStore } from '../cli/options';
import type { Store } from '../store/types';
import { scratchDir } from './harness';
import { startTestPostgres, type TestPostgres } from './postgres';

export interface StoreTarget {
  readonly kind: 'sqlite' | 'postgres';
  /** CLI arguments naming a new, empty store; `name` tells stores of one run apart. */
  create(name: string): Promise<string[]>;
  /** Opens the store that `args` (from create) name. */
  open(args: readonly string[]): Promise<Store>;
  /** Rows of a table, for what the Store interface does not show (edges left behind). */
  countRows(args: readonly string[], table: 'network_edges' | 'file_edges'): Promise<number>;
  /**
   * Makes the store refuse every detection insert with an error naming
   * DETECTIONS_REFUSED (a trigger: a real failure inside the writing transaction); the
   * returned function lifts it.
   */
  refuseDetections(args: readonly string[]): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export const DETECTIONS_REFUSED = 'detections refused by the test';

function optionsOf(args: readonly string[]): { db?: string; store?: string } {
  return args[0] === '--db' ? { db: args[1]! } : { store: args[1]! };
}

export function sqliteTarget(): StoreTarget {
  const scratch = scratchDir();
  return {
    kind: 'sqlite',
    create: async (name) => ['--db', scratch.db(`${name}.db`)],
    open: (args) => openStore(optionsOf(args)),
    async countRows(args, table) {
      const store = await openStore(optionsOf(args));
      try {
        const { db } = store as unknown as {
          db: { prepare(sql: string): { pluck(): { get(): unknown } } };
        };
        return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      } finally {
        await store.close();
      }
    },
    async refuseDetections(args) {
      const db = new Database(args[1]!);
      db.exec(`CREATE TRIGGER refuse_detections BEFORE INSERT ON detections
        BEGIN SELECT RAISE(ABORT, '${DETECTIONS_REFUSED}'); END`);
      return async () => {
        db.exec('DROP TRIGGER refuse_detections');
        db.close();
      };
    },
    stop: async () => scratch.remove(),
  };
}

/** A PostgreSQL server for the whole run; each store is a database of its own. */
export async function postgresTarget(): Promise<StoreTarget> {
  const server: TestPostgres = await startTestPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  let created = 0;
  const urlOf = (database: string) =>
    `postgres://${server.user}@${server.host}:${server.port}/${database}`;
  return {
    kind: 'postgres',
    async create(name) {
      const database = `${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}_${++created}`;
      // A plain identifier built above from letters, digits and _ only.
      await admin.query(`CREATE DATABASE ${database}`);
      return ['--store', urlOf(database)];
    },
    open: (args) => openStore(optionsOf(args)),
    async countRows(args, table) {
      const client = new pg.Client({ connectionString: args[1] });
      await client.connect();
      try {
        const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
        return Number(result.rows[0]!.n);
      } finally {
        await client.end();
      }
    },
    async refuseDetections(args) {
      const client = new pg.Client({ connectionString: args[1] });
      await client.connect();
      await client.query(`CREATE FUNCTION refuse_detections() RETURNS trigger LANGUAGE plpgsql
        AS $$ BEGIN RAISE EXCEPTION '${DETECTIONS_REFUSED}'; END $$`);
      await client.query(`CREATE TRIGGER refuse_detections BEFORE INSERT ON detections
        FOR EACH ROW EXECUTE FUNCTION refuse_detections()`);
      return async () => {
        await client.query('DROP TRIGGER refuse_detections ON detections');
        await client.query('DROP FUNCTION refuse_detections()');
        await client.end();
      };
    },
    async stop() {
      await admin.end().catch(() => undefined);
      server.stop();
    },
  };
}

/**
 * A PostgreSQL database for the tests of one file: its server started and the database
 * created before them, the server stopped after. The returned function gives the database's
 * URL once it exists.
 */
export function postgresDatabaseForTests(name: string): () => string | undefined {
  let target: StoreTarget | undefined;
  let url: string | undefined;
  before(async () => {
    target = await postgresTarget();
    url = (await target.create(name))[1];
  });
  after(() => target?.stop());
  return () => url;
}
