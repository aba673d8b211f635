import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  containerIdOf,
  fileEdgesOf,
  processFlags,
  eventTimeOf,
  networkEdgesOf,
  subjectsOf,
  toSortableTime,
  type EventBody,
  type EventSubjects,
  type ParsedEvent,
  type TetragonProcess,
} from '@proctrail/schema';
import { emptyWriteResult } from '../shared/write-result';
import type { IngestItem, SourceInfo, WriteResult } from '../types';
import { fileEdgeValues, networkEdgeValues } from '../shared/edge-values';
import { DESCRIPTIVE_COLUMNS } from '../shared/execution-columns';
import { SqliteInventoryWriter } from './inventory-writer';

/** Bits of executions.seen: in what role events named the process. */
export const SEEN_EXEC = 1;
export const SEEN_SUBJECT = 2;
export const SEEN_PARENT = 4;
export const SEEN_ANCESTOR = 8;

/** executions.info_rank: a richer process object replaces a poorer one, never the reverse. */
const RANK_EXEC = 3;
const RANK_SUBJECT = 2;
const RANK_PARENT = 1;
const RANK_ANCESTOR = 0;

/**
 * Upper bound of the cache of what was already written about each exec_id. Parents and
 * ancestors are repeated in every event, so most upserts would rewrite what is there; the
 * cache skips those. Cleared whole when full: a miss only costs one redundant upsert.
 */
const KNOWN_EXECUTIONS_LIMIT = 100_000;

/** Where the descriptive columns start among the upsert's parameters (after source_id, exec_id). */
const FIRST_DESCRIPTIVE_PARAM = 2;

/** What a write returns of the row, for the cache: see KnownExecution and UpsertReturn. */
const KNOWN_EXECUTION_RETURNING = `RETURNING exec_event_count, info_rank, seen,
  ${DESCRIPTIVE_COLUMNS.map((c, bit) => `((${c} IS NULL) << ${bit})`).join(' | ')}`;

const INSERT_EXECUTION_ROW = `
INSERT INTO executions (source_id, exec_id, parent_exec_id, node_name, pid, uid, auid, cwd,
  binary, arguments, flags, start_time, pod_namespace, pod_name, container_id, in_init_tree,
  seen, info_rank, exec_event_count, process_json)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const UPSERT_EXECUTION_SQL = `${INSERT_EXECUTION_ROW}
ON CONFLICT (source_id, exec_id) DO UPDATE SET
  ${DESCRIPTIVE_COLUMNS.map(
    (c) => `${c} = CASE WHEN excluded.info_rank > info_rank
        THEN coalesce(excluded.${c}, ${c}) ELSE coalesce(${c}, excluded.${c}) END`,
  ).join(',\n  ')},
  process_json = CASE WHEN excluded.info_rank > info_rank
    THEN excluded.process_json ELSE process_json END,
  seen = seen | excluded.seen,
  info_rank = max(info_rank, excluded.info_rank),
  exec_event_count = exec_event_count + excluded.exec_event_count
${KNOWN_EXECUTION_RETURNING}`;

/**
 * A process not stored yet takes a plain insert: no trigger applies to it, so SQLite keeps
 * no statement journal for it, which the upsert needs (its update may fire the search-index
 * trigger). Nothing comes back on a conflict, and the upsert merges the row instead.
 */
const INSERT_EXECUTION_SQL = `${INSERT_EXECUTION_ROW}
ON CONFLICT (source_id, exec_id) DO NOTHING
${KNOWN_EXECUTION_RETURNING}`;

/** A mention that adds nothing but its role: the only change it makes to a known row. */
const ADD_SEEN_SQL = `
UPDATE executions SET seen = seen | ? WHERE source_id = ? AND exec_id = ?`;

/**
 * A duplicate is an event of the same source with the same digest, found by the unique
 * indexes of migration 0005 (time, source, digest; and source, digest for timeless events).
 */
const INSERT_EVENT_SQL = `
INSERT INTO events (source_id, digest, kind, time, node_name, exec_id, pid, process_start_time, raw)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING`;

const SET_EXIT_SQL = `
UPDATE executions SET exit_time = ?, exit_status = ?, exit_signal = ?, ended_unseen_after = NULL
WHERE source_id = ? AND exec_id = ?`;

/**
 * An exec without a fork ends the pid's previous image: it gets an exit time and neither a
 * status nor a signal, which is what tells "replaced by exec" from a clean exit (status 0).
 * The same pid is required, so that only a previous image of this very process qualifies.
 */
const SET_REPLACED_SQL = `
UPDATE executions SET exit_time = ?
WHERE source_id = ? AND exec_id = ? AND pid = ? AND exit_time IS NULL`;

/**
 * A fork that did something before its exec (bash opening /dev/tcp for a redirection) has
 * an execution of its own, under the same parent and with the same pid; the exec (flag
 * clone) replaces it. Another open execution with that pid under that parent can only be
 * this fork, or an earlier process whose exit was never seen: either way it has ended.
 */
const SET_FORK_REPLACED_SQL = `
UPDATE executions SET exit_time = ?
WHERE source_id = ? AND parent_exec_id = ? AND pid = ? AND exec_id <> ? AND exit_time IS NULL`;

/**
 * Executions above the mark of executions_text_indexed (see migration 0006) enter the trigram
 * index here, once per batch: one INSERT ... SELECT costs a fraction of a trigger per row. The
 * rows are read at the end of the batch, so they carry their final binary and arguments.
 */
const FLUSH_SEARCH_SQL = [
  `INSERT INTO executions_text (rowid, binary, arguments)
   SELECT id, binary, arguments FROM executions
   WHERE id > (SELECT up_to FROM executions_text_indexed)`,
  `UPDATE executions_text_indexed SET up_to = (SELECT coalesce(max(id), up_to) FROM executions)`,
];

const INSERT_NETWORK_SQL = `
INSERT INTO network_edges (event_id, source_id, exec_id, time, type, family, protocol, saddr,
  sport, daddr, dport, cookie, bytes_sent, bytes_received, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const INSERT_FILE_SQL = `
INSERT INTO file_edges (event_id, source_id, exec_id, time, operation, path, bytes, flags)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * What a stored execution row holds, as the last upsert returned it (or as later cheap
 * updates changed it): enough to tell whether another mention would change anything.
 */
interface KnownExecution {
  rank: number;
  seen: number;
  /** Bit i set: DESCRIPTIVE_COLUMNS[i] is null in the row. */
  nullColumns: number;
}

/** The upsert's RETURNING columns, as an array. */
type UpsertReturn = [execEventCount: number, rank: number, seen: number, nullColumns: number];

/**
 * Writes batches of events into SQLite with prepared statements, one transaction per batch.
 * Each event is stored once per source (by the digest of its canonical JSON); the processes
 * it names become execution rows, richer descriptions replacing poorer ones whatever order
 * the events arrive in; its network and file activity becomes edge rows.
 */
export class SqliteEventWriter {
  private readonly insertEvent: Database.Statement;
  private readonly insertExecution: Database.Statement;
  private readonly upsertExecution: Database.Statement;
  private readonly addSeen: Database.Statement;
  private readonly setExit: Database.Statement;
  private readonly setReplaced: Database.Statement;
  private readonly setForkReplaced: Database.Statement;
  private readonly insertNetwork: Database.Statement;
  private readonly insertFile: Database.Statement;
  private readonly flushSearch: Database.Statement[];
  private readonly inventory: SqliteInventoryWriter;
  private readonly known = new Map<string, KnownExecution>();
  private readonly writeBatch: (
    source: SourceInfo,
    items: readonly IngestItem[],
    beforeCommit: ((result: WriteResult) => void) | undefined,
  ) => WriteResult;

  constructor(db: Database.Database) {
    this.insertEvent = db.prepare(INSERT_EVENT_SQL);
    this.insertExecution = db.prepare(INSERT_EXECUTION_SQL).raw(true);
    this.upsertExecution = db.prepare(UPSERT_EXECUTION_SQL).raw(true);
    this.addSeen = db.prepare(ADD_SEEN_SQL);
    this.setExit = db.prepare(SET_EXIT_SQL);
    this.setReplaced = db.prepare(SET_REPLACED_SQL);
    this.setForkReplaced = db.prepare(SET_FORK_REPLACED_SQL);
    this.insertNetwork = db.prepare(INSERT_NETWORK_SQL);
    this.insertFile = db.prepare(INSERT_FILE_SQL);
    this.flushSearch = FLUSH_SEARCH_SQL.map((sql) => db.prepare(sql));
    this.inventory = new SqliteInventoryWriter(db);
    this.writeBatch = db.transaction((source, items, beforeCommit) => {
      const result = this.writeItems(source, items);
      beforeCommit?.(result);
      return result;
    });
    indexPendingExecutions(db);
  }

  /** Writes a batch in one transaction; beforeCommit may write more into it (detections). */
  write(
    source: SourceInfo,
    items: readonly IngestItem[],
    beforeCommit?: (result: WriteResult) => void,
  ): WriteResult {
    try {
      return this.writeBatch(source, items, beforeCommit);
    } catch (error) {
      // The batch rolled back: the cache may name rows that were never stored.
      this.known.clear();
      throw error;
    }
  }

  private writeItems(source: SourceInfo, items: readonly IngestItem[]): WriteResult {
    const result = emptyWriteResult();
    for (const item of items) this.writeItem(source, item, result);
    this.flushSearchIndex();
    return result;
  }

  private flushSearchIndex(): void {
    for (const statement of this.flushSearch) statement.run();
  }

  private writeItem(source: SourceInfo, item: IngestItem, result: WriteResult): void {
    const { parsed } = item;
    const canonical = JSON.stringify(item.raw);
    const digest = createHash('sha1').update(canonical).digest('base64');
    const time = eventTimeOf(parsed) ?? null;
    const subjects = subjectsOf(parsed);
    const process = subjects.process;
    const execId = process?.exec_id || null;
    const nodeName = parsed.envelope.node_name ?? null;
    const startTime = process?.start_time ? (toSortableTime(process.start_time) ?? null) : null;

    const inserted = this.insertEvent.run(
      source.id,
      digest,
      parsed.kind,
      time,
      nodeName,
      execId,
      process?.pid ?? null,
      startTime,
      canonical,
    );
    if (inserted.changes === 0) {
      result.duplicates++;
      return;
    }
    const eventId = Number(inserted.lastInsertRowid);
    result.events.push({
      id: eventId,
      sourceId: source.id,
      kind: parsed.kind,
      time,
      execId,
      nodeName,
      json: canonical,
    });
    result.stored++;
    result.byKind[parsed.kind] = (result.byKind[parsed.kind] ?? 0) + 1;

    if (process && !execId) result.unattributed++;
    this.writeProcesses(source, subjects, parsed.kind === 'process_exec', nodeName, result);
    if (execId && parsed.kind === 'process_exit') this.writeExit(source, parsed, execId, time);
    if (parsed.kind === 'process_exec' && process) this.endReplacedImage(source, process, time);
    this.writeEdges(source, parsed, eventId, execId, time);
    this.inventory.write(source, parsed, eventId, execId, nodeName, time);
  }

  private endReplacedImage(source: SourceInfo, process: TetragonProcess, time: string | null) {
    if (!process.parent_exec_id) return;
    const pid = process.pid ?? null;
    if (processFlags(process).includes('clone')) {
      this.setForkReplaced.run(time, source.id, process.parent_exec_id, pid, process.exec_id);
    } else {
      this.setReplaced.run(time, source.id, process.parent_exec_id, pid);
    }
  }

  private writeProcesses(
    source: SourceInfo,
    { process, parent, ancestors }: EventSubjects,
    isExec: boolean,
    nodeName: string | null,
    result: WriteResult,
  ): void {
    if (process) {
      const collided = this.writeProcess(
        source,
        process,
        nodeName,
        isExec ? RANK_EXEC : RANK_SUBJECT,
        isExec ? SEEN_EXEC : SEEN_SUBJECT,
      );
      if (collided) result.collisions.push(process.exec_id!);
    }
    if (parent) this.writeProcess(source, parent, nodeName, RANK_PARENT, SEEN_PARENT);
    for (const ancestor of ancestors) {
      this.writeProcess(source, ancestor, nodeName, RANK_ANCESTOR, SEEN_ANCESTOR);
    }
  }

  /** Upserts one process; returns true when another, different exec event named its exec_id. */
  private writeProcess(
    source: SourceInfo,
    process: TetragonProcess,
    nodeName: string | null,
    rank: number,
    seenBit: number,
  ): boolean {
    const execId = process.exec_id;
    if (!execId) return false;
    const key = `${source.id}:${execId}`;
    const known = this.known.get(key);
    // A row already at this rank or richer keeps its process object: no need to serialise one.
    const keepsJson = known !== undefined && known.rank >= rank;
    const params = executionParams(source, process, nodeName, rank, seenBit, keepsJson);

    // Parents and ancestors are repeated in every event: when the row is at least as rich
    // and this mention has nothing for its null columns, the upsert would change nothing but
    // the role bit, so a one-column update (or nothing at all) does the same for far less.
    // Exec events always take the upsert, which counts them to find exec_id collisions.
    if (keepsJson && rank !== RANK_EXEC && (known.nullColumns & ~nullColumnsOf(params)) === 0) {
      if (known.seen & seenBit) return false;
      // No row changed: retention removed it since; the upsert below writes it again.
      if (this.addSeen.run(seenBit, source.id, execId).changes > 0) {
        known.seen |= seenBit;
        return false;
      }
    }

    // Known rows conflict for sure; others are most often new.
    const inserted = known ? undefined : (this.insertExecution.get(params) as UpsertReturn);
    const [execEventCount, storedRank, seen, nullColumns] =
      inserted ?? (this.upsertExecution.get(params) as UpsertReturn);
    if (this.known.size >= KNOWN_EXECUTIONS_LIMIT) this.known.clear();
    this.known.set(key, { rank: storedRank, seen, nullColumns });
    // Only events not stored before reach this point, so any count above one is a new collision.
    return rank === RANK_EXEC && execEventCount > 1;
  }

  private writeExit(source: SourceInfo, parsed: ParsedEvent, execId: string, time: string | null) {
    const exit = parsed.body as EventBody<'process_exit'>;
    const exitTime = (exit.time && toSortableTime(exit.time)) || time;
    this.setExit.run(exitTime, exit.status ?? 0, exit.signal || null, source.id, execId);
  }

  private writeEdges(
    source: SourceInfo,
    parsed: ParsedEvent,
    eventId: number,
    execId: string | null,
    time: string | null,
  ): void {
    for (const edge of networkEdgesOf(parsed)) {
      this.insertNetwork.run(eventId, source.id, execId, time, ...networkEdgeValues(edge));
    }
    for (const edge of fileEdgesOf(parsed)) {
      this.insertFile.run(eventId, source.id, execId, time, ...fileEdgeValues(edge));
    }
  }
}

/**
 * Makes executions written by something other than the event writer (a bulk load in SQL)
 * searchable: they wait above the index's mark until a writer's batch or this call.
 */
export function indexPendingExecutions(db: Database.Database): void {
  db.transaction(() => {
    for (const sql of FLUSH_SEARCH_SQL) db.prepare(sql).run();
  })();
}

/** The upsert's parameters, in the order of UPSERT_EXECUTION_SQL's columns. */
function executionParams(
  source: SourceInfo,
  process: TetragonProcess,
  nodeName: string | null,
  rank: number,
  seenBit: number,
  keepsJson: boolean,
): unknown[] {
  return [
    source.id,
    process.exec_id,
    process.parent_exec_id || null,
    nodeName,
    process.pid ?? null,
    process.uid ?? null,
    process.auid ?? null,
    process.cwd ?? null,
    process.binary ?? null,
    process.arguments ?? null,
    process.flags ?? null,
    process.start_time ? (toSortableTime(process.start_time) ?? null) : null,
    process.pod?.namespace ?? null,
    process.pod?.name ?? null,
    containerIdOf(process) ?? null,
    process.in_init_tree === undefined ? null : Number(process.in_init_tree),
    seenBit,
    rank,
    rank === RANK_EXEC ? 1 : 0,
    // Never stored when the row keeps its own (the upsert's CASE), but NOT NULL is checked first.
    keepsJson ? '' : JSON.stringify(process),
  ];
}

/** Which descriptive columns these upsert parameters leave null, as KnownExecution has it. */
function nullColumnsOf(params: unknown[]): number {
  let mask = 0;
  for (let bit = 0; bit < DESCRIPTIVE_COLUMNS.length; bit++) {
    if (params[FIRST_DESCRIPTIVE_PARAM + bit] === null) mask |= 1 << bit;
  }
  return mask;
}
