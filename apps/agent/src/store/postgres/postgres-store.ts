import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { redactedUrl } from './url';
import { postgresMigrationsFolder } from '@proctrail/db/migrations';
import {
  epochNsToTime,
  timeToEpochNs,
  type DetectionFilters,
  type EventBody,
  type InventorySearchResult,
  type ProcessTree,
  type TetragonProcess,
  type ValidEventFilters,
  type ValidInventoryFilters,
  type ValidProcessFilters,
} from '@proctrail/schema';
import type { Finding } from '../../detection/engine';
import { StoreError } from '../errors';
import { exportConditions } from '../shared/event-conditions';
import { ORPHAN_START_TOLERANCE_NS } from '../shared/write-result';
import type {
  FindInBatch,
  IngestItem,
  SoftwareLoadRow,
  SourceInfo,
  Store,
  TimeRange,
  TreeOptions,
  WriteResult,
} from '../types';
import { PostgresDetectionQueries } from './detection-queries';
import { PostgresEventWriter } from './event-writer';
import { settleEventPartitioning, type EventPartitioning } from './partitioning';
import { searchInventory } from './inventory-queries';
import { pruneOlderThan, pruneToSize } from './retention';
import { eventsAfter, processConditions, searchProcesses } from './search';
import { checkout, inTransaction, run, SOURCE_LOCK_SPACE } from './sql';
import { lastEvent, storeStats } from './stats-queries';
import { PostgresTreeQueries } from './tree-queries';

/**
 * Connections one process opens at most: a write, the API's reads in parallel, an export.
 * Every node's agent holds this many, so a fleet of N nodes needs about 4 N of the server's
 * max_connections (100 by default).
 */
const MAX_CONNECTIONS = 4;
/** Rows an export reads from its cursor at a time. */
const EXPORT_PAGE = 1000;
/** Lock key held while migrating, so agents starting together migrate one after another. */
const MIGRATION_LOCK = [SOURCE_LOCK_SPACE, -1] as const;

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Counts and ids come back as numbers, as better-sqlite3 gives them: ids and counts stay far
 * below 2^53.
 */
const numericTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/**
 * The shared store: one PostgreSQL that many agents write to and one API reads, through a
 * pg pool. The schema is migrated on open; events go into day partitions, written a batch a
 * transaction. Queries mirror the SQLite store's one for one, with its results.
 */
export class PostgresStore implements Store {
  private readonly writer: PostgresEventWriter;
  private readonly trees: PostgresTreeQueries;
  private readonly detectionQueries: PostgresDetectionQueries;

  private constructor(
    readonly pool: pg.Pool,
    /** How events are split by time: see partitioning.ts. */
    readonly partitioning: EventPartitioning,
  ) {
    this.writer = new PostgresEventWriter(pool, partitioning);
    this.trees = new PostgresTreeQueries(pool);
    this.detectionQueries = new PostgresDetectionQueries(pool);
  }

  /** Connects to `url` (postgres://...) and migrates the schema. */
  static async open(
    url: string,
    options: { maxConnections?: number } = {},
  ): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? MAX_CONNECTIONS,
      types: numericTypes,
      connectionTimeoutMillis: 10_000,
    });
    // An idle connection the server drops must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    let client: pg.PoolClient;
    try {
      client = await checkout(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new StoreError(
        'open',
        `cannot reach PostgreSQL at ${where(url)}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
    let partitioning: EventPartitioning;
    try {
      await client.query('SELECT pg_advisory_lock($1, $2)', [...MIGRATION_LOCK]);
      await migrate(drizzle(client), { migrationsFolder: postgresMigrationsFolder });
      partitioning = await settleEventPartitioning(client);
      await client.query('SELECT pg_advisory_unlock($1, $2)', [...MIGRATION_LOCK]);
      client.release();
    } catch (error) {
      client.release(true);
      await pool.end().catch(() => undefined);
      throw new StoreError(
        'migrate',
        `cannot migrate PostgreSQL at ${where(url)}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    return new PostgresStore(pool, partitioning);
  }

  async source(name: string, kind: SourceInfo['kind']): Promise<SourceInfo> {
    await run(
      this.pool,
      'INSERT INTO sources (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      [name, kind, new Date().toISOString()],
    );
    return (await this.sourceNamed(name))!;
  }

  async write(
    source: SourceInfo,
    items: readonly IngestItem[],
    findInBatch?: FindInBatch,
  ): Promise<WriteResult> {
    return this.writer.write(
      source,
      items,
      findInBatch &&
        (async (client, result) => {
          result.detections = await this.detectionQueries.save(source, findInBatch(result), client);
        }),
    );
  }

  async attributeOrphans(source: SourceInfo): Promise<{ attributed: number; remaining: number }> {
    let attributed = 0;
    await inTransaction(this.pool, source.id, async (client) => {
      const orphans = await run<{
        id: number;
        kind: string;
        pid: number;
        startTime: string;
        raw: string;
        time: string | null;
      }>(
        client,
        `SELECT id, kind, pid, process_start_time AS "startTime", raw, time FROM events
         WHERE source_id = ? AND exec_id IS NULL AND pid IS NOT NULL
           AND process_start_time IS NOT NULL
         ORDER BY id`,
        [source.id],
      );
      for (const orphan of orphans) {
        const startNs = timeToEpochNs(orphan.startTime)!;
        const [match] = await run<{ execId: string }>(
          client,
          `SELECT exec_id AS "execId" FROM executions
           WHERE source_id = ? AND pid = ? AND start_time BETWEEN ? AND ?
           ORDER BY info_rank DESC, id LIMIT 1`,
          [
            source.id,
            orphan.pid,
            epochNsToTime(startNs - ORPHAN_START_TOLERANCE_NS),
            epochNsToTime(startNs + ORPHAN_START_TOLERANCE_NS),
          ],
        );
        if (!match) continue;
        await assignExecId(client, source, orphan, match.execId);
        attributed++;
      }
    });
    const [remaining] = await run<{ n: number }>(
      this.pool,
      'SELECT count(*) AS n FROM events WHERE source_id = ? AND exec_id IS NULL AND pid IS NOT NULL',
      [source.id],
    );
    return { attributed, remaining: remaining!.n };
  }

  async sourcesOf(execId: string): Promise<SourceInfo[]> {
    return run<SourceInfo>(
      this.pool,
      `SELECT s.id, s.name, s.kind FROM executions e JOIN sources s ON s.id = e.source_id
       WHERE e.exec_id = ? ORDER BY s.id`,
      [execId],
    );
  }

  async tree(
    source: SourceInfo,
    execId: string,
    options?: TreeOptions,
  ): Promise<ProcessTree | undefined> {
    return this.trees.tree(source, execId, options);
  }

  async search(filters: ValidProcessFilters, offset = 0) {
    return searchProcesses(this.pool, this.trees, filters, offset);
  }

  /** Read through a server-side cursor, so a large export streams in pages. */
  async *exportEvents(
    filters: Omit<ValidProcessFilters, 'limit'> & { limit?: number },
  ): AsyncIterable<string> {
    const { since, until, limit, source, ...processFilters } = filters;
    const where = exportConditions({ source, since, until }, processConditions(processFilters));
    const sql = `DECLARE export_events NO SCROLL CURSOR FOR
      SELECT ev.raw FROM events ev
      ${where.length ? `WHERE ${where.map((c) => c.sql).join(' AND ')}` : ''}
      ORDER BY ev.time COLLATE "C" NULLS FIRST, ev.id ${limit ? 'LIMIT ?' : ''}`;
    const params = [...where.flatMap((c) => c.params), ...(limit ? [limit] : [])];
    const client = await checkout(this.pool);
    let failure: Error | undefined;
    // Open until committed: a reader that stops early (or fails) leaves it to roll back, so
    // the connection goes back to the pool outside any transaction.
    let open = false;
    try {
      await client.query('BEGIN READ ONLY');
      open = true;
      await run(client, sql, params);
      for (;;) {
        const rows = await run<{ raw: string }>(client, `FETCH ${EXPORT_PAGE} FROM export_events`);
        for (const row of rows) yield row.raw;
        if (rows.length < EXPORT_PAGE) break;
      }
      await client.query('COMMIT');
      open = false;
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      if (open) await client.query('ROLLBACK').catch(() => undefined);
      client.release(failure);
    }
  }

  async runningExecutions(source: SourceInfo): Promise<TetragonProcess[]> {
    const rows = await run<{ process_json: string }>(
      this.pool,
      `SELECT process_json FROM executions
       WHERE source_id = ? AND exit_time IS NULL AND (seen & 3) <> 0
       ORDER BY start_time COLLATE "C" NULLS FIRST, id`,
      [source.id],
    );
    return rows.map((row) => JSON.parse(row.process_json) as TetragonProcess);
  }

  async endUnseen(source: SourceInfo, execIds: readonly string[], foundGoneAt: string) {
    if (execIds.length === 0) return 0;
    return inTransaction(this.pool, source.id, async (client) => {
      const [last] = await run<{ time: string }>(
        client,
        `SELECT time FROM events WHERE source_id = ? AND time IS NOT NULL
         ORDER BY time DESC LIMIT 1`,
        [source.id],
      );
      const marked = await run(
        client,
        `UPDATE executions SET exit_time = ?,
           ended_unseen_after = GREATEST(coalesce(?, start_time, ?) COLLATE "C",
             coalesce(start_time, '') COLLATE "C")
         WHERE source_id = ? AND exec_id = ANY(?::text[]) AND exit_time IS NULL
         RETURNING id`,
        [foundGoneAt, last?.time ?? null, foundGoneAt, source.id, [...execIds]],
      );
      return marked.length;
    });
  }

  async counts() {
    const [row] = await run<{
      events: number;
      executions: number;
      placeholders: number;
      unattributed: number;
    }>(
      this.pool,
      `SELECT (SELECT count(*) FROM events) AS events,
         (SELECT count(*) FROM executions) AS executions,
         (SELECT count(*) FROM executions WHERE (seen & 3) = 0) AS placeholders,
         (SELECT count(*) FROM events WHERE exec_id IS NULL AND pid IS NOT NULL) AS unattributed`,
    );
    return row!;
  }

  async eventsAfter(afterId: number, filters: ValidEventFilters, limit: number) {
    return eventsAfter(this.pool, afterId, filters, limit);
  }

  async sourceNamed(name: string): Promise<SourceInfo | undefined> {
    const [row] = await run<SourceInfo>(
      this.pool,
      'SELECT id, name, kind FROM sources WHERE name = ?',
      [name],
    );
    return row;
  }

  async stats(topBinaries: number, range?: TimeRange) {
    return storeStats(this.pool, topBinaries, range);
  }

  async lastEvent() {
    return lastEvent(this.pool);
  }

  async prune(options: { before?: string; maxBytes?: number }) {
    const total = { events: 0, executions: 0 };
    for (const prune of [
      options.before ? () => pruneOlderThan(this.pool, options.before!) : undefined,
      options.maxBytes ? () => pruneToSize(this.pool, options.maxBytes!) : undefined,
    ]) {
      if (!prune) continue;
      const result = await prune();
      total.events += result.events;
      total.executions += result.executions;
    }
    // Dropped partitions are made again when an event of their day comes.
    this.writer.forgetPartitions();
    return total;
  }

  async processChain(source: SourceInfo, execId: string, limit: number) {
    return this.detectionQueries.processChain(source, execId, limit);
  }

  async saveDetections(source: SourceInfo, findings: readonly Finding[]) {
    return this.detectionQueries.save(source, findings);
  }

  async detections(filters: DetectionFilters) {
    return this.detectionQueries.list(filters);
  }

  async inventory(filters: ValidInventoryFilters): Promise<InventorySearchResult> {
    return searchInventory(this.pool, filters);
  }

  async writeSoftwareLoads(source: SourceInfo, loads: readonly SoftwareLoadRow[]): Promise<void> {
    if (loads.length > 0) await this.writer.writeLoads(source, loads);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** See SqliteStore.assignExecId. */
async function assignExecId(
  client: pg.PoolClient,
  source: SourceInfo,
  orphan: { id: number; kind: string; raw: string; time: string | null },
  execId: string,
): Promise<void> {
  await run(client, 'UPDATE events SET exec_id = ? WHERE id = ?', [execId, orphan.id]);
  await run(client, 'UPDATE network_edges SET exec_id = ? WHERE event_id = ?', [execId, orphan.id]);
  await run(client, 'UPDATE file_edges SET exec_id = ? WHERE event_id = ?', [execId, orphan.id]);
  if (orphan.kind !== 'process_exit') return;
  const exit = (JSON.parse(orphan.raw) as Record<string, EventBody<'process_exit'>>).process_exit!;
  await run(
    client,
    `UPDATE executions SET exit_time = ?, exit_status = ?, exit_signal = ?,
       ended_unseen_after = NULL
     WHERE source_id = ? AND exec_id = ?`,
    [orphan.time ?? null, exit.status ?? 0, exit.signal || null, source.id, execId],
  );
}

/** host:port of a URL, for messages. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${redactedUrl(url)} (${parsed.hostname || 'localhost'}:${parsed.port || '5432'})`;
  } catch {
    return redactedUrl(url);
  }
}

function messageOf(error: unknown): string {
  const message = (error as Error).message || String((error as { code?: string }).code ?? error);
  // AggregateError (every address refused) has no message of its own.
  const inner = (error as { errors?: Error[] }).errors?.map((e) => e.message).join('; ');
  return inner ? `${message || 'connection failed'} (${inner})` : message;
}
