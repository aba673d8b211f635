import type pg from 'pg';
import { run } from './sql';

/*
 * How the events table is split by time. The migrations make PostgreSQL's declarative
 * partitioning (a partition per UTC day, made by proctrail_event_partition, dropped whole by
 * retention). Where the server offers TimescaleDB, a store still empty is turned into a
 * hypertable instead: TimescaleDB then makes the day chunks itself and retention drops them
 * with drop_chunks. A store that already holds events keeps what it has.
 *
 * Limitation: the hypertable path has never run. TimescaleDB is not packaged for Debian 12,
 * where Proctrail is developed and tested, so only the detection and the declarative path
 * are tested. On a hypertable an event without a time (a hypertable's time column cannot be
 * NULL) is kept in the plain table events_timeless, where the store's searches, exports and
 * statistics do not see it; `--max-db-size` measures the chunks only through
 * pg_partition_tree, which does not know them, so it does not prune a hypertable.
 */

export type EventPartitioning = 'declarative' | 'hypertable';

/** What the server and the store say: the extension offered, events a hypertable already. */
export interface PartitioningFacts {
  timescaledbAvailable: boolean;
  eventsIsHypertable: boolean;
  /** True when events has no row and no day partition: nothing to move. */
  eventsEmpty: boolean;
}

/** The partitioning these facts call for (pure, so that every branch is tested here). */
export function chooseEventPartitioning(facts: PartitioningFacts): EventPartitioning {
  if (facts.eventsIsHypertable) return 'hypertable';
  return facts.timescaledbAvailable && facts.eventsEmpty ? 'hypertable' : 'declarative';
}

export async function partitioningFacts(db: pg.Pool | pg.PoolClient): Promise<PartitioningFacts> {
  const [row] = await run<PartitioningFacts>(
    db,
    `SELECT
       EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
         AS "timescaledbAvailable",
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
         AND EXISTS (SELECT 1 FROM pg_class WHERE relname = 'events' AND relkind = 'r'
           AND relnamespace = 'public'::regnamespace)
         AS "eventsIsHypertable",
       NOT EXISTS (SELECT 1 FROM events)
         AND NOT EXISTS (SELECT 1 FROM pg_partition_tree('events')
           WHERE isleaf AND relid::regclass::text ~ '^events_\\d{8}$')
         AS "eventsEmpty"`,
  );
  return row!;
}

/**
 * Turns the migrations' (empty) partitioned events table into a hypertable of one-day chunks
 * on the sortable text time, in one transaction: the time-less partition is detached and
 * kept as a table of its own, the partitioned table replaced by a plain one with the same
 * columns and indexes, and the partition functions replaced by ones for chunks.
 */
const HYPERTABLE_SQL = [
  'CREATE EXTENSION IF NOT EXISTS timescaledb',
  'ALTER TABLE events DETACH PARTITION events_timeless',
  'ALTER TABLE events RENAME TO events_partitioned',
  `CREATE TABLE events (LIKE events_partitioned INCLUDING DEFAULTS INCLUDING IDENTITY)`,
  'ALTER TABLE events ALTER COLUMN time SET NOT NULL',
  // Time-less events take their ids from the hypertable's sequence, so ids stay unique.
  `ALTER TABLE events_timeless ALTER COLUMN id SET DEFAULT
     nextval(pg_get_serial_sequence('events', 'id'))`,
  'DROP TABLE events_partitioned',
  `CREATE FUNCTION proctrail_event_time_ns(event_time text) RETURNS bigint
   LANGUAGE sql IMMUTABLE STRICT AS $$
     SELECT (extract(epoch FROM substr(event_time, 1, 19)::timestamp)::bigint * 1000000000)
       + coalesce(nullif(rpad(substring(event_time FROM '\\.(\\d+)'), 9, '0'), '')::bigint, 0)
   $$`,
  `SELECT create_hypertable('events', 'time',
     time_partitioning_func => 'proctrail_event_time_ns',
     chunk_time_interval => 86400000000000::bigint)`,
  'CREATE UNIQUE INDEX events_time_source_digest ON events (time, source_id, digest)',
  'CREATE INDEX events_id ON events (id)',
  'CREATE INDEX events_source_exec ON events (source_id, exec_id, id)',
  'CREATE INDEX events_kind_time ON events (kind, time)',
  // TimescaleDB makes each chunk when its first row comes: nothing to make beforehand.
  `CREATE OR REPLACE FUNCTION proctrail_event_partition(event_time text) RETURNS text
   LANGUAGE sql AS $$ SELECT CASE WHEN event_time IS NULL THEN 'events_timeless' ELSE 'events' END $$`,
  `CREATE OR REPLACE FUNCTION proctrail_drop_event_partitions_before(cut text) RETURNS SETOF text
   LANGUAGE sql AS $$
     SELECT chunk::text FROM drop_chunks('events', older_than => proctrail_event_time_ns(cut))
       AS chunk
   $$`,
];

/**
 * The partitioning of this store's events, after making the hypertable where TimescaleDB is
 * offered and the store is empty. Runs after the migrations, under their lock.
 */
export async function settleEventPartitioning(client: pg.PoolClient): Promise<EventPartitioning> {
  const facts = await partitioningFacts(client);
  const chosen = chooseEventPartitioning(facts);
  if (chosen === 'declarative' || facts.eventsIsHypertable) return chosen;
  return makeHypertable(client);
}

/**
 * Makes the events a hypertable in one transaction. Where that fails (an extension version
 * that takes other arguments, a server that offers the extension without preloading it), the
 * transaction rolls back to the declarative partitions the migrations made, the store keeps
 * them and a process warning says why: a store that works beats a stop at open.
 */
export async function makeHypertable(client: pg.PoolClient): Promise<EventPartitioning> {
  await client.query('BEGIN');
  try {
    for (const statement of HYPERTABLE_SQL) await run(client, statement);
    await client.query('COMMIT');
    return 'hypertable';
  } catch (error) {
    await client.query('ROLLBACK');
    process.emitWarning(
      `the events could not be made a TimescaleDB hypertable, so they stay in PostgreSQL's ` +
        `declarative day partitions: ${error instanceof Error ? error.message : String(error)}`,
      { code: 'PROCTRAIL_HYPERTABLE' },
    );
    return 'declarative';
  }
}
