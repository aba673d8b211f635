import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { sqliteMigrationsFolder } from '@proctrail/db/migrations';
import {
  epochNsToTime,
  timeToEpochNs,
  type DetectionFilters,
  type EventBody,
  type InventorySearchResult,
  type ValidInventoryFilters,
  type ProcessTree,
  type TetragonProcess,
  type ValidEventFilters,
  type ValidProcessFilters,
} from '@proctrail/schema';
import { StoreError } from '../errors';
import { exportConditions } from '../shared/event-conditions';
import { ORPHAN_START_TOLERANCE_NS } from '../shared/write-result';
import type { Finding } from '../../detection/engine';
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
import { SqliteDetectionQueries } from './detection-queries';
import { SqliteEventWriter } from './event-writer';
import { searchInventory } from './inventory-queries';
import { SqliteInventoryWriter } from './inventory-writer';
import { pruneOlderThan, pruneToSize } from './retention';
import { eventsAfter, sourceNamed } from './event-queries';
import { processConditions, searchProcesses } from './search';
import { lastEvent, storeStats } from './stats-queries';
import { SqliteTreeQueries } from './tree-queries';

/**
 * The embedded store: one SQLite file in WAL mode (readers never wait for the writer),
 * migrated on open, written in one transaction per batch.
 */
export class SqliteStore implements Store {
  private readonly writer: SqliteEventWriter;
  private readonly trees: SqliteTreeQueries;
  private readonly detectionQueries: SqliteDetectionQueries;

  private constructor(readonly db: Database.Database) {
    this.writer = new SqliteEventWriter(db);
    this.trees = new SqliteTreeQueries(db);
    this.detectionQueries = new SqliteDetectionQueries(db);
  }

  /** Opens (creating when missing) and migrates the database file at `file`. */
  static open(file: string): SqliteStore {
    let db: Database.Database;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
    } catch (error) {
      throw new StoreError(
        'open',
        `cannot open SQLite database ${file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a crash of the process intact; a power loss may lose the
    // last transactions, never corrupt the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    // The default 2 MB page cache thrashes once the indexes outgrow it; 32 MB keeps their
    // upper levels in memory. Negative values are KiB.
    db.pragma('cache_size = -32768');
    // Statements with triggers (the executions upserts) keep a statement journal, the pages
    // they changed, to undo themselves alone. On disk it went to a temporary file once a
    // batch's journal passed 64 KiB, then cost a write per page of every later upsert in the
    // batch (16 per row measured); in memory it is a copy. Temporary tables and indexes
    // (IN lists, UNION) stay in memory too; sorts still spill to files as before.
    db.pragma('temp_store = MEMORY');
    try {
      migrate(drizzle(db), { migrationsFolder: sqliteMigrationsFolder });
    } catch (error) {
      db.close();
      throw new StoreError('migrate', `cannot migrate ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return new SqliteStore(db);
  }

  async source(name: string, kind: SourceInfo['kind']): Promise<SourceInfo> {
    this.db
      .prepare(
        'INSERT INTO sources (name, kind, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(name, kind, new Date().toISOString());
    const row = this.db.prepare('SELECT id, name, kind FROM sources WHERE name = ?').get(name);
    return row as SourceInfo;
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
        ((result) => {
          result.detections = this.detectionQueries.insert(source, findInBatch(result));
        }),
    );
  }

  async attributeOrphans(source: SourceInfo): Promise<{ attributed: number; remaining: number }> {
    const orphans = this.db
      .prepare(
        `SELECT id, kind, pid, process_start_time AS startTime, raw FROM events
         WHERE source_id = ? AND exec_id IS NULL AND pid IS NOT NULL AND process_start_time IS NOT NULL`,
      )
      .all(source.id) as Array<{
      id: number;
      kind: string;
      pid: number;
      startTime: string;
      raw: string;
    }>;
    const candidates = this.db.prepare(
      `SELECT exec_id AS execId FROM executions
       WHERE source_id = ? AND pid = ? AND start_time BETWEEN ? AND ? ORDER BY info_rank DESC LIMIT 1`,
    );
    let attributed = 0;
    this.db.transaction(() => {
      for (const orphan of orphans) {
        const startNs = timeToEpochNs(orphan.startTime)!;
        const match = candidates.get(
          source.id,
          orphan.pid,
          epochNsToTime(startNs - ORPHAN_START_TOLERANCE_NS),
          epochNsToTime(startNs + ORPHAN_START_TOLERANCE_NS),
        ) as { execId: string } | undefined;
        if (!match) continue;
        this.assignExecId(source, orphan, match.execId);
        attributed++;
      }
    })();
    const remaining = this.db
      .prepare(
        'SELECT count(*) FROM events WHERE source_id = ? AND exec_id IS NULL AND pid IS NOT NULL',
      )
      .pluck()
      .get(source.id) as number;
    return { attributed, remaining };
  }

  private assignExecId(
    source: SourceInfo,
    orphan: { id: number; kind: string; raw: string },
    execId: string,
  ): void {
    this.db.prepare('UPDATE events SET exec_id = ? WHERE id = ?').run(execId, orphan.id);
    this.db
      .prepare('UPDATE network_edges SET exec_id = ? WHERE event_id = ?')
      .run(execId, orphan.id);
    this.db.prepare('UPDATE file_edges SET exec_id = ? WHERE event_id = ?').run(execId, orphan.id);
    if (orphan.kind !== 'process_exit') return;
    const exit = (JSON.parse(orphan.raw) as Record<string, EventBody<'process_exit'>>)
      .process_exit!;
    const time = this.db.prepare('SELECT time FROM events WHERE id = ?').pluck().get(orphan.id);
    this.db
      .prepare(
        `UPDATE executions SET exit_time = ?, exit_status = ?, exit_signal = ?,
           ended_unseen_after = NULL
         WHERE source_id = ? AND exec_id = ?`,
      )
      .run(time ?? null, exit.status ?? 0, exit.signal || null, source.id, execId);
  }

  async sourcesOf(execId: string): Promise<SourceInfo[]> {
    return this.db
      .prepare(
        `SELECT s.id, s.name, s.kind FROM executions e JOIN sources s ON s.id = e.source_id
         WHERE e.exec_id = ? ORDER BY s.id`,
      )
      .all(execId) as SourceInfo[];
  }

  async tree(
    source: SourceInfo,
    execId: string,
    options?: TreeOptions,
  ): Promise<ProcessTree | undefined> {
    return this.trees.tree(source, execId, options);
  }

  async search(filters: ValidProcessFilters, offset = 0) {
    return searchProcesses(this.db, this.trees, filters, offset);
  }

  async *exportEvents(
    filters: Omit<ValidProcessFilters, 'limit'> & { limit?: number },
  ): AsyncIterable<string> {
    const { since, until, limit, source, ...processFilters } = filters;
    const where = exportConditions({ source, since, until }, processConditions(processFilters));
    const sql = `SELECT ev.raw FROM events ev
      ${where.length ? `WHERE ${where.map((c) => c.sql).join(' AND ')}` : ''}
      ORDER BY ev.time, ev.id ${limit ? 'LIMIT ?' : ''}`;
    const params = [...where.flatMap((c) => c.params), ...(limit ? [limit] : [])];
    for (const raw of this.db
      .prepare(sql)
      .pluck()
      .iterate(...params))
      yield raw as string;
  }

  async runningExecutions(source: SourceInfo): Promise<TetragonProcess[]> {
    const rows = this.db
      .prepare(
        `SELECT process_json FROM executions
         WHERE source_id = ? AND exit_time IS NULL AND (seen & 3) != 0
         ORDER BY start_time`,
      )
      .pluck()
      .all(source.id) as string[];
    return rows.map((json) => JSON.parse(json) as TetragonProcess);
  }

  async endUnseen(source: SourceInfo, execIds: readonly string[], foundGoneAt: string) {
    if (execIds.length === 0) return 0;
    // Walks the time index from the newest event back to the first of this source.
    const lastWatched = this.db
      .prepare(
        `SELECT time FROM events WHERE source_id = ? AND time IS NOT NULL
         ORDER BY time DESC LIMIT 1`,
      )
      .pluck()
      .get(source.id) as string | undefined;
    const mark = this.db.prepare(
      `UPDATE executions SET exit_time = ?,
         ended_unseen_after = max(coalesce(?, start_time, ?), coalesce(start_time, ''))
       WHERE source_id = ? AND exec_id = ? AND exit_time IS NULL`,
    );
    return this.db.transaction(() => {
      let marked = 0;
      for (const execId of execIds) {
        marked += mark.run(
          foundGoneAt,
          lastWatched ?? null,
          foundGoneAt,
          source.id,
          execId,
        ).changes;
      }
      return marked;
    })();
  }

  async counts() {
    const one = (sql: string) => this.db.prepare(sql).pluck().get() as number;
    return {
      events: one('SELECT count(*) FROM events'),
      executions: one('SELECT count(*) FROM executions'),
      placeholders: one('SELECT count(*) FROM executions WHERE (seen & 3) = 0'),
      unattributed: one('SELECT count(*) FROM events WHERE exec_id IS NULL AND pid IS NOT NULL'),
    };
  }

  async eventsAfter(afterId: number, filters: ValidEventFilters, limit: number) {
    return eventsAfter(this.db, afterId, filters, limit);
  }

  async sourceNamed(name: string) {
    return sourceNamed(this.db, name);
  }

  async stats(topBinaries: number, range?: TimeRange) {
    return storeStats(this.db, topBinaries, range);
  }

  async lastEvent() {
    return lastEvent(this.db);
  }

  async prune(options: { before?: string; maxBytes?: number }) {
    const total = { events: 0, executions: 0 };
    for (const result of [
      options.before ? pruneOlderThan(this.db, options.before) : undefined,
      options.maxBytes ? pruneToSize(this.db, options.maxBytes) : undefined,
    ]) {
      total.events += result?.events ?? 0;
      total.executions += result?.executions ?? 0;
    }
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
    return searchInventory(this.db, filters);
  }

  async writeSoftwareLoads(source: SourceInfo, loads: readonly SoftwareLoadRow[]): Promise<void> {
    this.inventoryWriter ??= new SqliteInventoryWriter(this.db);
    this.inventoryWriter.writeRows(source, loads);
  }

  private inventoryWriter: SqliteInventoryWriter | undefined;

  async close(): Promise<void> {
    // Gathers the statistics the query planner lacks on a database that just grew (SQLite's
    // advice for connections that close); cheap when nothing changed.
    this.db.pragma('optimize');
    this.db.close();
  }
}
