import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  containerIdOf,
  eventTimeOf,
  fileEdgesOf,
  networkEdgesOf,
  processFlags,
  softwareLoadOf,
  subjectsOf,
  toSortableTime,
  type EventBody,
  type EventSubjects,
  type ParsedEvent,
  type SoftwareLoad,
  type TetragonProcess,
} from '@proctrail/schema';
import { emptyWriteResult } from '../shared/write-result';
import type { IngestItem, SoftwareLoadRow, SourceInfo, WriteResult } from '../types';
import { SEEN_ANCESTOR, SEEN_EXEC, SEEN_PARENT, SEEN_SUBJECT } from '../sqlite/event-writer';
import { fileEdgeValues, networkEdgeValues } from '../shared/edge-values';
import { DESCRIPTIVE_COLUMNS } from '../shared/execution-columns';
import { NO_EVENT_ID, softwareLoadValues } from '../shared/software-load-values';
import { copyRows } from './copy';
import type { EventPartitioning } from './partitioning';
import { inTransaction, run } from './sql';

/** executions.info_rank, as the SQLite writer ranks: a richer process object wins. */
const RANK_EXEC = 3;
const RANK_SUBJECT = 2;
const RANK_PARENT = 1;
const RANK_ANCESTOR = 0;

const STATE_COLUMNS = [
  'seen',
  'info_rank',
  'exec_event_count',
  'process_json',
  'exit_time',
  'exit_status',
  'exit_signal',
  'ended_unseen_after',
] as const;

const EXECUTION_COLUMNS = [...DESCRIPTIVE_COLUMNS, ...STATE_COLUMNS];
type ExecutionColumn = (typeof EXECUTION_COLUMNS)[number];

/** One execution row as the batch leaves it; `stored` when it was read from the database. */
type ExecutionState = Record<ExecutionColumn, unknown> & { exec_id: string };

/**
 * Every execution row the batch may change is read at once, then changed in memory in the
 * events' order exactly as the SQLite writer's statements change it row by row, and written
 * back whole in one upsert. The write holds a transaction-level advisory lock on its source,
 * so no other writer of the same source changes these rows in between (other sources' rows
 * are never touched). Each row is looked up through its own index, one probe per exec_id and
 * per forked (parent, pid), however many rows the source has and whatever the statistics say:
 * with the two lookups joined by OR in one WHERE, or a plain join, the planner read every
 * execution of the source for each batch while the table's statistics lagged behind it
 * (OFFSET 0 keeps it from turning the lateral lookups back into such a join).
 */
const SELECTED_COLUMNS = EXECUTION_COLUMNS.map((c) => `e."${c}"`).join(', ');
const SELECT_EXECUTIONS_SQL = `
SELECT e.exec_id, ${SELECTED_COLUMNS}
FROM unnest(?::text[]) AS wanted(exec_id)
CROSS JOIN LATERAL (
  SELECT * FROM executions e WHERE e.source_id = ? AND e.exec_id = wanted.exec_id OFFSET 0
) e
UNION ALL
SELECT e.exec_id, ${SELECTED_COLUMNS}
FROM unnest(?::text[], ?::int[]) AS fork(parent_exec_id, pid)
CROSS JOIN LATERAL (
  SELECT * FROM executions e
  WHERE e.source_id = ? AND e.parent_exec_id = fork.parent_exec_id AND e.pid = fork.pid
    AND e.exit_time IS NULL OFFSET 0
) e`;

const QUOTED_COLUMNS = EXECUTION_COLUMNS.map((c) => `"${c}"`).join(', ');

/**
 * A batch's events, executions and edges go to the server by COPY (see copy.ts). Events and
 * executions pass through a temporary table of the connection, emptied at commit, so that one
 * INSERT ... SELECT can skip the duplicates or merge the rows; edges have no key to check and
 * are copied straight into their tables. Rows are copied in the batch's order and inserted by
 * it, so event ids rise in it as SQLite's do.
 */
const STAGING_SQL = `
CREATE TEMP TABLE IF NOT EXISTS incoming_events (
  n integer, digest text, kind text, time text, node_name text, exec_id text, pid integer,
  process_start_time text, raw text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS incoming_executions ON COMMIT DELETE ROWS AS
  SELECT 0 AS n, exec_id, ${QUOTED_COLUMNS} FROM executions WITH NO DATA`;

const COPY_EVENTS = `COPY pg_temp.incoming_events (n, digest, kind, time, node_name, exec_id, pid,
  process_start_time, raw) FROM STDIN`;
const INSERT_EVENTS = `INSERT INTO events (source_id, digest, kind, time, node_name, exec_id, pid,
  process_start_time, raw)
SELECT ?, digest, kind, time, node_name, exec_id, pid, process_start_time, raw
FROM pg_temp.incoming_events ORDER BY n
ON CONFLICT DO NOTHING RETURNING id, digest`;

/**
 * A hypertable's time cannot be NULL: there the time-less events go to events_timeless, a
 * table of its own (see partitioning.ts), which takes its ids from the events' sequence.
 */
const INSERT_TIMED_EVENTS = INSERT_EVENTS.replace(
  'FROM pg_temp.incoming_events ORDER BY n',
  'FROM pg_temp.incoming_events WHERE time IS NOT NULL ORDER BY n',
);
const INSERT_TIMELESS_EVENTS = `INSERT INTO events_timeless (source_id, digest, kind, time,
  node_name, exec_id, pid, process_start_time, raw)
SELECT ?, digest, kind, time, node_name, exec_id, pid, process_start_time, raw
FROM pg_temp.incoming_events WHERE time IS NULL ORDER BY n
ON CONFLICT DO NOTHING RETURNING id, digest`;

const COPY_EXECUTIONS = `COPY pg_temp.incoming_executions (n, exec_id, ${QUOTED_COLUMNS})
  FROM STDIN`;
const UPSERT_EXECUTIONS = `INSERT INTO executions (source_id, exec_id, ${QUOTED_COLUMNS})
SELECT ?, exec_id, ${QUOTED_COLUMNS} FROM pg_temp.incoming_executions ORDER BY n
ON CONFLICT (source_id, exec_id) DO UPDATE SET
  ${EXECUTION_COLUMNS.map((c) => `"${c}" = excluded."${c}"`).join(',\n  ')}`;

const COPY_NETWORK = `COPY network_edges (source_id, event_id, exec_id, time, type, family,
  protocol, saddr, sport, daddr, dport, cookie, bytes_sent, bytes_received, state) FROM STDIN`;

const COPY_FILES = `COPY file_edges (source_id, event_id, exec_id, time, operation, path, bytes,
  flags) FROM STDIN`;

/** Connections whose temporary tables exist (a connection the pool drops takes them along). */
const stagedClients = new WeakSet<pg.PoolClient>();

async function ensureStaging(client: pg.PoolClient): Promise<void> {
  if (stagedClients.has(client)) return;
  await run(client, STAGING_SQL);
  stagedClients.add(client);
}

/**
 * As SQLite's inventory writer: one row per (source, execution, role, path); a later load
 * fills what the row lacks and never erases a hash. These merges give the same row whether
 * the loads of a batch are folded first or applied one by one, so a batch folds its own.
 */
const INSERT_LOADS = `INSERT INTO software_loads (source_id, event_id, exec_id, node_name, time,
  role, path, sha256, build_id, name, version, soname, error, advisories)`;
const UPSERT_LOADS = `ON CONFLICT (source_id, exec_id, role, path) DO UPDATE SET
  sha256 = coalesce(software_loads.sha256, excluded.sha256),
  build_id = coalesce(software_loads.build_id, excluded.build_id),
  name = coalesce(software_loads.name, excluded.name),
  version = coalesce(software_loads.version, excluded.version),
  soname = coalesce(software_loads.soname, excluded.soname),
  error = CASE WHEN coalesce(software_loads.sha256, excluded.sha256) IS NULL
    THEN excluded.error END,
  advisories = coalesce(excluded.advisories, software_loads.advisories)`;

/** PostgreSQL takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 65_535;

/**
 * `insert VALUES (...), (...) end` for `rows`, each row prefixed with the source id; in as few
 * statements as the parameter limit allows. Returns the rows the statements returned.
 */
async function insertRows<Row extends object>(
  client: pg.PoolClient,
  insert: string,
  end: string,
  sourceId: number,
  rows: readonly unknown[][],
): Promise<Row[]> {
  if (rows.length === 0) return [];
  const width = rows[0]!.length + 1;
  const perStatement = Math.floor(MAX_PARAMETERS / width);
  const returned: Row[] = [];
  for (let from = 0; from < rows.length; from += perStatement) {
    const chunk = rows.slice(from, from + perStatement);
    const tuple = `(${Array.from({ length: width }, () => '?').join(', ')})`;
    const sql = `${insert} VALUES ${chunk.map(() => tuple).join(', ')} ${end}`;
    returned.push(
      ...(await run<Row>(
        client,
        sql,
        chunk.flatMap((row) => [sourceId, ...row]),
      )),
    );
  }
  return returned;
}

interface PreparedEvent {
  item: IngestItem;
  subjects: EventSubjects;
  digest: string;
  canonical: string;
  time: string | null;
  execId: string | null;
  nodeName: string | null;
  pid: number | null;
  startTime: string | null;
}

interface LoadRow {
  eventId: number;
  execId: string;
  nodeName: string | null;
  time: string | null;
  load: SoftwareLoad;
}

/**
 * Writes batches of events into PostgreSQL, one transaction per batch and a handful of
 * statements per batch (COPY, then one INSERT ... SELECT per table), with the SQLite writer's
 * semantics: each event once per source, executions merged by richness in the events' order,
 * exits, replaced images, edges and inventory rows.
 */
export class PostgresEventWriter {
  /** Days whose event partition exists (made by proctrail_event_partition). */
  private readonly partitionDays = new Set<string>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly partitioning: EventPartitioning = 'declarative',
  ) {}

  /** Forgets the partitions known to exist: retention may have dropped some. */
  forgetPartitions(): void {
    this.partitionDays.clear();
  }

  /** Writes a batch in one transaction; beforeCommit may write more into it (detections). */
  async write(
    source: SourceInfo,
    items: readonly IngestItem[],
    beforeCommit?: (client: pg.PoolClient, result: WriteResult) => Promise<void>,
  ): Promise<WriteResult> {
    const prepared = items.map(prepare);
    const writeAll = async (client: pg.PoolClient) => {
      const result = await writeBatch(client, source, prepared, this.partitioning);
      await beforeCommit?.(client, result);
      return result;
    };
    await this.ensurePartitions(prepared);
    try {
      return await inTransaction(this.pool, source.id, writeAll);
    } catch (error) {
      // 23514: an event of a day whose partition another process's retention just dropped
      // fell to the time-less partition's check (in the events' insert, before beforeCommit
      // ran). Make the partitions again, once.
      if ((error as { cause?: { code?: string } }).cause?.code !== '23514') throw error;
      this.forgetPartitions();
      await this.ensurePartitions(prepared);
      return inTransaction(this.pool, source.id, writeAll);
    }
  }

  async writeLoads(source: SourceInfo, rows: readonly SoftwareLoadRow[]): Promise<void> {
    const loads = rows.map((row) => ({
      eventId: NO_EVENT_ID,
      execId: row.execId,
      nodeName: row.nodeName ?? null,
      time: row.time ? (toSortableTime(row.time) ?? null) : null,
      load: row,
    }));
    await inTransaction(this.pool, source.id, (client) => upsertLoads(client, source, loads));
  }

  /**
   * Partitions are made outside the batch's transaction: creating one locks the events table
   * until every transaction that uses it ends (a long export included). The next day's is
   * made with each new day's, so a live agent does not wait for that lock at midnight.
   */
  private async ensurePartitions(prepared: PreparedEvent[]): Promise<void> {
    for (const { time } of prepared) {
      if (!time) continue;
      const day = time.slice(0, 10);
      if (this.partitionDays.has(day)) continue;
      for (const partitionDay of [day, nextDay(day)]) {
        if (partitionDay === undefined || this.partitionDays.has(partitionDay)) continue;
        await run(this.pool, 'SELECT proctrail_event_partition(?)', [`${partitionDay}T00:00:00Z`]);
        this.partitionDays.add(partitionDay);
      }
    }
  }
}

/** The UTC day after `day` (YYYY-MM-DD); undefined past what Date can hold. */
function nextDay(day: string): string | undefined {
  const ms = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
  return Number.isNaN(ms) || ms > 253_402_214_400_000
    ? undefined
    : new Date(ms).toISOString().slice(0, 10);
}

function prepare(item: IngestItem): PreparedEvent {
  const canonical = JSON.stringify(item.raw);
  const subjects = subjectsOf(item.parsed);
  const process = subjects.process;
  return {
    item,
    subjects,
    canonical,
    digest: createHash('sha1').update(canonical).digest('base64'),
    time: eventTimeOf(item.parsed) ?? null,
    execId: process?.exec_id || null,
    nodeName: item.parsed.envelope.node_name ?? null,
    pid: process?.pid ?? null,
    startTime: process?.start_time ? (toSortableTime(process.start_time) ?? null) : null,
  };
}

async function writeBatch(
  client: pg.PoolClient,
  source: SourceInfo,
  prepared: PreparedEvent[],
  partitioning: EventPartitioning,
): Promise<WriteResult> {
  const result = emptyWriteResult();
  await ensureStaging(client);
  const reads = ExecutionBatch.plan(prepared);
  let executions = await ExecutionBatch.read(client, source, reads);
  const unique = await copyEvents(client, prepared);

  // The events' INSERT, the batch's longest statement, is on its way. While the server runs
  // it, the batch's own work is done here: the edge and inventory rows (their event ids filled
  // in afterwards), and the executions merged as if every event were new, which on a live host
  // they nearly always are. If some were duplicates (an import read twice), the merge is done
  // again from a fresh read, over the stored events only. One statement at a time: pg
  // deprecates queueing a second on a busy connection.
  const inserting = insertCopiedEvents(client, source, partitioning);
  const pending = prepared.map((event) => ({
    network: networkRowsOf(event),
    files: fileRowsOf(event),
    load: loadOf(event),
  }));
  const guessed = emptyWriteResult();
  for (const event of unique) executions.applyEvent(event, guessed);
  const stored = storedEvents(source, prepared, unique, await inserting, result);
  if (stored.length === unique.length && stored.every((s, i) => s.event === unique[i])) {
    result.unattributed += guessed.unattributed;
    result.collisions.push(...guessed.collisions);
  } else {
    executions = await ExecutionBatch.read(client, source, reads);
    for (const { event } of stored) executions.applyEvent(event, result);
  }

  const loads: LoadRow[] = [];
  const network: unknown[][] = [];
  const files: unknown[][] = [];
  for (const { index, id } of stored) {
    const rows = pending[index]!;
    for (const row of rows.network) network.push([source.id, id, ...row]);
    for (const row of rows.files) files.push([source.id, id, ...row]);
    if (rows.load) loads.push({ ...rows.load, eventId: id });
  }
  await executions.save(client, source);
  await copyRows(client, COPY_NETWORK, network);
  await copyRows(client, COPY_FILES, files);
  await upsertLoads(client, source, loads);
  return result;
}

/**
 * Copies the batch's events into the connection's staging table, each digest once (a digest
 * twice in one batch is a duplicate of the batch's own first copy); returns those copied.
 */
async function copyEvents(
  client: pg.PoolClient,
  prepared: PreparedEvent[],
): Promise<PreparedEvent[]> {
  const firsts = new Map<string, PreparedEvent>();
  for (const event of prepared) if (!firsts.has(event.digest)) firsts.set(event.digest, event);
  const unique = [...firsts.values()];
  await copyRows(
    client,
    COPY_EVENTS,
    unique.map((e, n) => [
      n,
      e.digest,
      e.item.parsed.kind,
      e.time,
      e.nodeName,
      e.execId,
      e.pid,
      e.startTime,
      e.canonical,
    ]),
  );
  return unique;
}

/** Inserts the staged events that are not stored yet; returns their ids by digest. */
async function insertCopiedEvents(
  client: pg.PoolClient,
  source: SourceInfo,
  partitioning: EventPartitioning,
): Promise<Array<{ id: number; digest: string }>> {
  const inserted = (sql: string) => run<{ id: number; digest: string }>(client, sql, [source.id]);
  if (partitioning !== 'hypertable') return inserted(INSERT_EVENTS);
  return [...(await inserted(INSERT_TIMED_EVENTS)), ...(await inserted(INSERT_TIMELESS_EVENTS))];
}

/** The batch's events that were stored (not duplicates), in id order, counted in `result`. */
function storedEvents(
  source: SourceInfo,
  prepared: PreparedEvent[],
  unique: PreparedEvent[],
  rows: Array<{ id: number; digest: string }>,
  result: WriteResult,
): Array<{ event: PreparedEvent; index: number; id: number }> {
  const ids = new Map(rows.map((r) => [r.digest, r.id]));
  const firsts = new Set(unique);
  const stored: Array<{ event: PreparedEvent; index: number; id: number }> = [];
  prepared.forEach((event, index) => {
    const id = firsts.has(event) ? ids.get(event.digest) : undefined;
    if (id === undefined) result.duplicates++;
    else stored.push({ event, index, id });
  });
  stored.sort((a, b) => a.id - b.id);
  for (const { event, id } of stored) {
    const kind = event.item.parsed.kind;
    result.events.push({
      id,
      sourceId: source.id,
      kind,
      time: event.time,
      execId: event.execId,
      nodeName: event.nodeName,
      json: event.canonical,
    });
    result.stored++;
    result.byKind[kind] = (result.byKind[kind] ?? 0) + 1;
  }
  return stored;
}

/** The execution rows a batch reads: by exec_id, and open ones by (parent, pid) for forks. */
interface ExecutionReads {
  ids: string[];
  forkParents: string[];
  forkPids: number[];
}

/** The executions of one batch, read once, changed in memory, written back once. */
class ExecutionBatch {
  private readonly rows = new Map<string, ExecutionState>();
  /** Rows by `parent_exec_id \0 pid`, for a fork replaced by its exec. */
  private readonly byParentPid = new Map<string, Set<ExecutionState>>();
  private readonly dirty = new Set<ExecutionState>();

  /** What to read: every event's processes (duplicates' too: reading more is harmless). */
  static plan(prepared: readonly PreparedEvent[]): ExecutionReads {
    const ids = new Set<string>();
    const forkParents: string[] = [];
    const forkPids: number[] = [];
    for (const event of prepared) {
      const { subjects } = event;
      for (const p of [subjects.process, subjects.parent, ...subjects.ancestors]) {
        if (p?.exec_id) ids.add(p.exec_id);
      }
      const process = subjects.process;
      if (event.item.parsed.kind !== 'process_exec' || !process?.parent_exec_id) continue;
      ids.add(process.parent_exec_id);
      if (processFlags(process).includes('clone') && process.pid !== undefined) {
        forkParents.push(process.parent_exec_id);
        forkPids.push(process.pid);
      }
    }
    return { ids: [...ids], forkParents, forkPids };
  }

  static async read(
    client: pg.PoolClient,
    source: SourceInfo,
    reads: ExecutionReads,
  ): Promise<ExecutionBatch> {
    const batch = new ExecutionBatch();
    if (reads.ids.length === 0) return batch;
    const rows = await run<ExecutionState>(client, SELECT_EXECUTIONS_SQL, [
      reads.ids,
      source.id,
      reads.forkParents,
      reads.forkPids,
      source.id,
    ]);
    // A row both named and found by its parent and pid comes twice.
    for (const row of rows) if (!batch.rows.has(row.exec_id)) batch.index(row);
    return batch;
  }

  private index(row: ExecutionState): void {
    this.rows.set(row.exec_id, row);
    const key = parentPidKey(row);
    if (key === undefined) return;
    const set = this.byParentPid.get(key);
    if (set) set.add(row);
    else this.byParentPid.set(key, new Set([row]));
  }

  private unindex(row: ExecutionState): void {
    const key = parentPidKey(row);
    if (key !== undefined) this.byParentPid.get(key)?.delete(row);
  }

  /** What SqliteEventWriter.writeItem does to executions for one stored event. */
  applyEvent(event: PreparedEvent, result: WriteResult): void {
    const { parsed } = event.item;
    const { process, parent, ancestors } = event.subjects;
    const isExec = parsed.kind === 'process_exec';
    if (process && !event.execId) result.unattributed++;
    if (process) {
      const collided = this.mention(
        process,
        event.nodeName,
        isExec ? RANK_EXEC : RANK_SUBJECT,
        isExec ? SEEN_EXEC : SEEN_SUBJECT,
      );
      if (collided) result.collisions.push(process.exec_id!);
    }
    if (parent) this.mention(parent, event.nodeName, RANK_PARENT, SEEN_PARENT);
    for (const ancestor of ancestors) {
      this.mention(ancestor, event.nodeName, RANK_ANCESTOR, SEEN_ANCESTOR);
    }
    if (event.execId && parsed.kind === 'process_exit') this.exit(parsed, event);
    if (isExec && process) this.endReplacedImage(process, event.time);
  }

  /** The upsert of one process object; true when a second exec event named its exec_id. */
  private mention(
    process: TetragonProcess,
    nodeName: string | null,
    rank: number,
    seenBit: number,
  ): boolean {
    const execId = process.exec_id;
    if (!execId) return false;
    const described = descriptiveValues(process, nodeName);
    const execEvents = rank === RANK_EXEC ? 1 : 0;
    let row = this.rows.get(execId);
    if (!row) {
      row = {
        exec_id: execId,
        ...described,
        seen: seenBit,
        info_rank: rank,
        exec_event_count: execEvents,
        process_json: JSON.stringify(process),
        exit_time: null,
        exit_status: null,
        exit_signal: null,
        ended_unseen_after: null,
      };
      this.index(row);
    } else {
      this.unindex(row);
      // Parents and ancestors are named again by every event: a mention that changes nothing
      // leaves the row out of the batch's upsert.
      let changed = rank > (row.info_rank as number) || execEvents > 0;
      const richer = rank > (row.info_rank as number);
      for (const column of DESCRIPTIVE_COLUMNS) {
        const merged = richer
          ? (described[column] ?? row[column])
          : (row[column] ?? described[column]);
        if (merged !== row[column]) {
          row[column] = merged;
          changed = true;
        }
      }
      if (richer) row.process_json = JSON.stringify(process);
      if (((row.seen as number) & seenBit) === 0) {
        row.seen = (row.seen as number) | seenBit;
        changed = true;
      }
      row.info_rank = Math.max(row.info_rank as number, rank);
      row.exec_event_count = (row.exec_event_count as number) + execEvents;
      this.index(row);
      if (changed) this.dirty.add(row);
      return rank === RANK_EXEC && (row.exec_event_count as number) > 1;
    }
    this.dirty.add(row);
    return rank === RANK_EXEC && (row.exec_event_count as number) > 1;
  }

  private exit(parsed: ParsedEvent, event: PreparedEvent): void {
    const row = this.rows.get(event.execId!);
    if (!row) return;
    const exit = parsed.body as EventBody<'process_exit'>;
    row.exit_time = (exit.time && toSortableTime(exit.time)) || event.time;
    row.exit_status = exit.status ?? 0;
    row.exit_signal = exit.signal || null;
    row.ended_unseen_after = null;
    this.dirty.add(row);
  }

  /** See SET_REPLACED_SQL and SET_FORK_REPLACED_SQL in the SQLite writer. */
  private endReplacedImage(process: TetragonProcess, time: string | null): void {
    const parentExecId = process.parent_exec_id;
    if (!parentExecId || process.pid === undefined) return;
    const ended = (row: ExecutionState) => {
      row.exit_time = time;
      this.dirty.add(row);
    };
    if (processFlags(process).includes('clone')) {
      const key = `${parentExecId}\0${process.pid}`;
      for (const row of this.byParentPid.get(key) ?? []) {
        if (row.exec_id !== process.exec_id && row.exit_time === null) ended(row);
      }
      return;
    }
    const previous = this.rows.get(parentExecId);
    if (previous && previous.pid === process.pid && previous.exit_time === null) ended(previous);
  }

  async save(client: pg.PoolClient, source: SourceInfo): Promise<void> {
    if (this.dirty.size === 0) return;
    // Rows in the order they were first written, so new rows get ids in that order.
    const rows = [...this.rows.values()].filter((row) => this.dirty.has(row));
    await copyRows(
      client,
      COPY_EXECUTIONS,
      rows.map((row, n) => [n, row.exec_id, ...EXECUTION_COLUMNS.map((column) => row[column])]),
    );
    await run(client, UPSERT_EXECUTIONS, [source.id]);
  }
}

function parentPidKey(row: ExecutionState): string | undefined {
  if (row.parent_exec_id === null || row.pid === null) return undefined;
  return `${row.parent_exec_id as string}\0${row.pid as number}`;
}

/** The descriptive columns a process object gives, as SQLite's executionParams does. */
function descriptiveValues(
  process: TetragonProcess,
  nodeName: string | null,
): Record<(typeof DESCRIPTIVE_COLUMNS)[number], unknown> {
  return {
    parent_exec_id: process.parent_exec_id || null,
    node_name: nodeName,
    pid: process.pid ?? null,
    uid: process.uid ?? null,
    auid: process.auid ?? null,
    cwd: process.cwd ?? null,
    binary: process.binary ?? null,
    arguments: process.arguments ?? null,
    flags: process.flags ?? null,
    start_time: process.start_time ? (toSortableTime(process.start_time) ?? null) : null,
    pod_namespace: process.pod?.namespace ?? null,
    pod_name: process.pod?.name ?? null,
    container_id: containerIdOf(process) ?? null,
    in_init_tree: process.in_init_tree === undefined ? null : Boolean(process.in_init_tree),
  };
}

/** A connect's, accept's, ... rows of network_edges, all but their event id. */
function networkRowsOf(event: PreparedEvent): unknown[][] {
  const { execId, time } = event;
  return networkEdgesOf(event.item.parsed).map((edge) => [
    execId,
    time,
    ...networkEdgeValues(edge),
  ]);
}

/** An open's, read's, ... rows of file_edges, all but their event id. */
function fileRowsOf(event: PreparedEvent): unknown[][] {
  const { execId, time } = event;
  return fileEdgesOf(event.item.parsed).map((edge) => [execId, time, ...fileEdgeValues(edge)]);
}

/** The inventory row an exec or loader event makes, all but its event id. */
function loadOf(event: PreparedEvent): Omit<LoadRow, 'eventId'> | undefined {
  const { parsed } = event.item;
  if (!event.execId || (parsed.kind !== 'process_exec' && parsed.kind !== 'process_loader')) {
    return undefined;
  }
  const load = softwareLoadOf(parsed);
  if (!load) return undefined;
  return { execId: event.execId, nodeName: event.nodeName, time: event.time, load };
}

/** Folds a batch's loads of one (execution, role, path) as the upsert would, then upserts. */
async function upsertLoads(
  client: pg.PoolClient,
  source: SourceInfo,
  loads: readonly LoadRow[],
): Promise<void> {
  if (loads.length === 0) return;
  const folded = new Map<string, unknown[]>();
  for (const { eventId, execId, nodeName, time, load } of loads) {
    const row = softwareLoadValues(eventId, execId, nodeName, time, load);
    const key = `${execId}\0${load.role}\0${load.path}`;
    const first = folded.get(key);
    if (!first) {
      folded.set(key, row);
      continue;
    }
    for (const i of [6, 7, 8, 9, 10]) first[i] ??= row[i];
    first[11] = first[6] === null ? row[11] : null;
    first[12] = row[12] ?? first[12];
  }
  await insertRows(client, INSERT_LOADS, UPSERT_LOADS, source.id, [...folded.values()]);
}
