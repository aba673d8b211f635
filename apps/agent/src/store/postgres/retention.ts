import type pg from 'pg';
import { run } from './sql';

/** Rows removed per statement where retention deletes rather than drops. */
const CHUNK = 10_000;
/** Pruning executions works leaf first; each pass frees the parents of the last. */
const MAX_EXECUTION_PASSES = 64;

export interface PruneResult {
  events: number;
  executions: number;
}

/** See pruneExecutions of the SQLite store. */
async function pruneExecutions(pool: pg.Pool): Promise<number> {
  let removed = 0;
  // Each pass removes every execution that is a leaf now, so the passes follow the trees'
  // depth. Unlike SQLite, which holds its one writer's lock per statement and so deletes in
  // chunks, PostgreSQL deletes them all at once without blocking readers: chunks of 10,000,
  // each scanning the executions from the start again, took 97 s for 335,000 (9 s now).
  for (let pass = 0; pass < MAX_EXECUTION_PASSES; pass++) {
    const [deleted] = await run<{ n: number }>(
      pool,
      `WITH gone AS (
         DELETE FROM executions e
         WHERE (e.exit_time IS NOT NULL OR (e.seen & 3) = 0)
           AND NOT EXISTS (
             SELECT 1 FROM events v WHERE v.source_id = e.source_id AND v.exec_id = e.exec_id)
           AND NOT EXISTS (
             SELECT 1 FROM executions c
             WHERE c.source_id = e.source_id AND c.parent_exec_id = e.exec_id AND c.id <> e.id)
         RETURNING 1)
       SELECT count(*) AS n FROM gone`,
    );
    removed += deleted!.n;
    if (deleted!.n === 0) break;
  }
  return removed;
}

/** Library loads stored without an event go by their own time, or with their execution. */
async function pruneCompactLoads(pool: pg.Pool, before?: string): Promise<void> {
  if (before !== undefined) {
    await run(pool, 'DELETE FROM software_loads WHERE event_id = 0 AND time < ?', [before]);
  }
  await run(
    pool,
    `DELETE FROM software_loads WHERE event_id = 0 AND NOT EXISTS (
       SELECT 1 FROM executions e
       WHERE e.source_id = software_loads.source_id AND e.exec_id = software_loads.exec_id)`,
  );
}

/**
 * Deletes events older than `before` (sortable time): the day partitions wholly before it are
 * dropped (no row by row delete, no dead rows left behind), then the rows of the day the cut
 * falls in are deleted. An edge or inventory row carries its event's time, so the same cut
 * removes those of the events that went. Then the executions left with nothing.
 */
export async function pruneOlderThan(pool: pg.Pool, before: string): Promise<PruneResult> {
  const [counted] = await run<{ n: number }>(
    pool,
    'SELECT count(*) AS n FROM events WHERE time < ?',
    [before],
  );
  await run(pool, 'SELECT proctrail_drop_event_partitions_before(?)', [before]);
  for (;;) {
    const deleted = await run(
      pool,
      `DELETE FROM events WHERE time < ? AND id IN (
         SELECT id FROM events WHERE time < ? ORDER BY time LIMIT ${CHUNK})
       RETURNING id`,
      [before, before],
    );
    if (deleted.length < CHUNK) break;
  }
  for (const table of ['network_edges', 'file_edges']) {
    await run(pool, `DELETE FROM ${table} WHERE time < ?`, [before]);
  }
  await run(pool, 'DELETE FROM software_loads WHERE event_id <> 0 AND time < ?', [before]);
  const executions = await pruneExecutions(pool);
  await pruneCompactLoads(pool, before);
  return { events: counted!.n, executions };
}

/** Bytes the events' partitions take, indexes included: where nearly all the data is. */
async function eventBytes(pool: pg.Pool): Promise<number> {
  const [row] = await run<{ bytes: number }>(
    pool,
    `SELECT coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes
     FROM pg_partition_tree('events') WHERE isleaf`,
  );
  return row!.bytes;
}

/** The day partitions of events, oldest first, with the start of the day after each. */
async function dayPartitions(pool: pg.Pool): Promise<string[]> {
  const rows = await run<{ next_day: string }>(
    pool,
    `SELECT to_char(to_date(substr(relid::regclass::text, 8), 'YYYYMMDD') + 1, 'YYYY-MM-DD')
       || 'T00:00:00.000000000Z' AS next_day
     FROM pg_partition_tree('events')
     WHERE isleaf AND relid::regclass::text ~ '^events_\\d{8}$'
     ORDER BY relid::regclass::text`,
  );
  return rows.map((r) => r.next_day);
}

/**
 * Drops whole days of events, oldest first, while the events' partitions take more than
 * `maxBytes`; time-less events go last. Deleted rows of the other tables leave space that
 * PostgreSQL reuses but does not give back, so only the partitions, which a drop frees at
 * once, are measured.
 */
export async function pruneToSize(pool: pg.Pool, maxBytes: number): Promise<PruneResult> {
  const result: PruneResult = { events: 0, executions: 0 };
  while ((await eventBytes(pool)) > maxBytes) {
    const [oldestEnd] = await dayPartitions(pool);
    if (oldestEnd) {
      const dropped = await pruneOlderThan(pool, oldestEnd);
      result.events += dropped.events;
      result.executions += dropped.executions;
      continue;
    }
    const timeless = await run(pool, 'DELETE FROM events WHERE time IS NULL RETURNING id');
    for (const table of ['network_edges', 'file_edges']) {
      await run(pool, `DELETE FROM ${table} WHERE time IS NULL`);
    }
    await run(pool, 'DELETE FROM software_loads WHERE event_id <> 0 AND time IS NULL');
    result.events += timeless.length;
    result.executions += await pruneExecutions(pool);
    await pruneCompactLoads(pool);
    break;
  }
  return result;
}
