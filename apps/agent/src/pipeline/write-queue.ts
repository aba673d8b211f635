import {
  appendFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ParsedEvent, TetragonEvent } from '@proctrail/schema';
import type { IngestItem, SourceInfo, Store, WriteResult } from '../store/types';
import { writeBatchWithRules, type BatchRules } from './batch-rules';
import { MAX_TRANSACTION_EVENTS } from './store-batcher';

export interface WriteQueueBounds {
  /** Events held in memory before new ones go to the spill files. */
  memoryEvents: number;
  /** Bytes of spill files at most; events beyond it are dropped and counted. */
  spillBytes: number;
  /** Where the spill files live; one directory per queue (per agent). */
  spillDir: string;
  /** Events in one spill file; one file is read back at a time, so this bounds that read. */
  segmentEvents?: number;
  /** Events in one store write at most: a replayed backlog goes in transactions this size. */
  batchEvents?: number;
  /** The first retry waits this long; each failure doubles it, up to maxRetryMs. */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /**
   * Consecutive failures of one batch while the store answers reads, after which the batch
   * is taken for the cause (data the store refuses) and dropped, so it cannot stall the rest.
   */
  rejectionsBeforeDrop?: number;
}

export interface WriteQueueOptions extends WriteQueueBounds {
  /** Told about every batch written, with the items it was made of: live bus, metrics. */
  onWritten?: (result: WriteResult, latencyMs: number, batch: readonly IngestItem[]) => void;
  /** Told when the store stops or starts taking writes, for the log. */
  onStoreDown?: (error: Error, backlog: WriteBacklog) => void;
  onStoreBack?: (backlog: WriteBacklog, downMs: number) => void;
  /** Told when events are dropped: the bound was reached, or the store refused a batch. */
  onDropped?: (reason: 'backlog_full' | 'store_rejected', count: number, error?: Error) => void;
  /** Detection rules run on each batch before it commits. */
  rules?: BatchRules;
}

/** What waits to be written, and what was lost. */
export interface WriteBacklog {
  memoryEvents: number;
  spilledEvents: number;
  spillBytes: number;
  /** Seconds since the oldest waiting event was queued; 0 when none waits. */
  oldestAgeSeconds: number;
  /** Events dropped because memory and spill files were full. */
  droppedFull: number;
  /** Events dropped because the store refused their batch again and again while it answered. */
  droppedRejected: number;
  /** Failed write attempts so far. */
  retries: number;
  storeReachable: boolean;
  /** The last write error while the store is unreachable. */
  lastError?: string;
}

interface QueuedItem {
  item: IngestItem;
  queuedAtMs: number;
}

interface SpillSegment {
  path: string;
  events: number;
  bytes: number;
  firstQueuedAtMs: number;
}

/** One spilled event: the event, its JSON when that differs, and when it was queued. */
interface SpillLine {
  e: TetragonEvent;
  r?: unknown;
  t: number;
}

const ENVELOPE_KEYS = new Set([
  'node_name',
  'time',
  'cluster_name',
  'node_labels',
  'aggregation_info',
]);

const DEFAULTS = {
  segmentEvents: 10_000,
  batchEvents: MAX_TRANSACTION_EVENTS,
  firstRetryMs: 250,
  maxRetryMs: 30_000,
  rejectionsBeforeDrop: 5,
};

/** Spill files are named by a sequence number that sorts as text; it starts mid-range so a
 * shutdown can put the events still in memory in front of those already spilled. */
const FIRST_SEGMENT = 500_000_000_000;

/**
 * The agent's path to its store, built to survive the store going away (a PostgreSQL
 * restart, a network cut). Events are written in batches, one transaction each, as soon as
 * they arrive; a failed batch stays at the head of the queue and is retried with doubling
 * waits. Meanwhile events wait in memory up to a bound, then in spill files on disk up to a
 * second bound, and are written in the order they came once the store takes writes again.
 * Beyond both bounds the newest events are dropped and counted. A retried batch may have been
 * committed before its error arrived: the stores drop duplicates, so it is stored once.
 *
 * Spill files outlive the process: a queue opened on a directory that holds some replays them
 * first, and stop() spills what it cannot write, so a restart with the store down loses
 * nothing either.
 */
export class WriteQueue {
  private readonly memory: QueuedItem[] = [];
  private readonly segments: SpillSegment[] = [];
  private readonly bounds: Required<WriteQueueBounds>;
  private spillBytesTotal = 0;
  private nextSegment = FIRST_SEGMENT;
  private lowestSegment = FIRST_SEGMENT;
  private droppedFull = 0;
  private droppedRejected = 0;
  private retries = 0;
  private rejections = 0;
  private retryDelayMs = 0;
  private downSinceMs: number | undefined;
  private lastError: Error | undefined;
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private scheduled: NodeJS.Immediate | undefined;
  private stopping = false;
  /** Set when events were dropped for want of room; cleared when the backlog shrinks. */
  private full = false;

  constructor(
    private readonly store: Store,
    private readonly source: SourceInfo,
    private readonly options: WriteQueueOptions,
  ) {
    const bounds = { ...DEFAULTS, ...options };
    // A spill file is read back into memory whole: no bigger than memory's own bound.
    bounds.segmentEvents = Math.max(1, Math.min(bounds.segmentEvents, bounds.memoryEvents));
    this.bounds = bounds;
    mkdirSync(this.bounds.spillDir, { recursive: true });
    this.adoptSpillFiles();
    if (this.segments.length) this.schedule();
  }

  /** Events waiting to be written, in memory and in spill files. */
  get depth(): number {
    return this.memory.length + this.spilledEvents();
  }

  backlog(): WriteBacklog {
    const oldest = this.memory[0]?.queuedAtMs ?? this.segments[0]?.firstQueuedAtMs;
    return {
      memoryEvents: this.memory.length,
      spilledEvents: this.spilledEvents(),
      spillBytes: this.spillBytesTotal,
      oldestAgeSeconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
      droppedFull: this.droppedFull,
      droppedRejected: this.droppedRejected,
      retries: this.retries,
      storeReachable: this.downSinceMs === undefined,
      ...(this.downSinceMs !== undefined &&
        this.lastError && { lastError: this.lastError.message }),
    };
  }

  push(items: readonly IngestItem[]): void {
    if (items.length === 0) return;
    const now = Date.now();
    let index = 0;
    // Once anything is spilled, new events queue behind it on disk: order is kept.
    if (this.segments.length === 0) {
      const room = Math.max(0, this.bounds.memoryEvents - this.memory.length);
      for (; index < items.length && index < room; index++) {
        this.memory.push({ item: items[index]!, queuedAtMs: now });
      }
    }
    if (index < items.length) this.spill(items.slice(index), now);
    this.schedule();
  }

  /** Writes what is waiting, unless the store is down; resolves when that attempt is over. */
  async flush(): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.running) await this.running;
    if (this.retryTimer) return;
    await this.drain();
  }

  /**
   * Writes what is in memory, once; what the store does not take then goes to the front of
   * the spill files, for the next start. Spill files already written stay there.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.scheduled = undefined;
    this.retryTimer = undefined;
    if (this.running) await this.running;
    while (this.memory.length > 0) {
      const batch = this.memory.slice(0, this.bounds.batchEvents);
      if (!(await this.writeBatch(batch))) break;
    }
    if (this.memory.length > 0) {
      const left = this.memory.splice(0);
      this.spillFirst(left, --this.lowestSegment);
    }
  }

  private spilledEvents(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.events;
    return total;
  }

  private schedule(): void {
    if (this.stopping || this.scheduled || this.running || this.retryTimer) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = undefined;
      void this.drain();
    });
  }

  private drain(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.drainLoop().finally(() => {
      this.running = undefined;
      if (this.memory.length > 0 || this.segments.length > 0) this.schedule();
    });
    return this.running;
  }

  private async drainLoop(): Promise<void> {
    while (!this.stopping) {
      if (this.memory.length === 0 && !this.readSegment()) return;
      const batch = this.memory.slice(0, this.bounds.batchEvents);
      if (!(await this.writeBatch(batch))) {
        this.retryLater();
        return;
      }
      // SQLite writes synchronously: a turn of the loop between transactions lets the sensor
      // and the live bus run while a backlog is replayed.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Writes the head of the queue; true when it left the queue (stored, or refused for good). */
  private async writeBatch(batch: QueuedItem[]): Promise<boolean> {
    const items = batch.map((queued) => queued.item);
    const start = performance.now();
    let result: WriteResult;
    try {
      result = await writeBatchWithRules(this.store, this.source, items, this.options.rules);
    } catch (error) {
      return this.failed(error as Error, batch.length);
    }
    this.memory.splice(0, batch.length);
    this.full = false;
    this.rejections = 0;
    this.retryDelayMs = 0;
    if (this.downSinceMs !== undefined) {
      const downMs = Date.now() - this.downSinceMs;
      this.downSinceMs = undefined;
      this.lastError = undefined;
      this.options.onStoreBack?.(this.backlog(), downMs);
    }
    this.options.onWritten?.(result, performance.now() - start, items);
    return true;
  }

  /**
   * Tells a store that is down (keep the batch, wait, retry) from a batch the store refuses
   * (drop it after a few tries): an error the database calls passing (busy, out of space,
   * connection gone), or a store that does not even answer a read, is down.
   */
  private async failed(error: Error, size: number): Promise<boolean> {
    this.retries++;
    this.lastError = error;
    let reachable = !isPassingStoreError(error);
    if (reachable) {
      try {
        await this.store.lastEvent();
      } catch {
        reachable = false;
      }
    }
    if (reachable) {
      if (++this.rejections < this.bounds.rejectionsBeforeDrop) return false;
      this.memory.splice(0, size);
      this.rejections = 0;
      this.droppedRejected += size;
      this.options.onDropped?.('store_rejected', size, error);
      return true;
    }
    if (this.downSinceMs === undefined) {
      this.downSinceMs = Date.now();
      this.options.onStoreDown?.(error, this.backlog());
    }
    return false;
  }

  private retryLater(): void {
    if (this.stopping) return;
    this.retryDelayMs = Math.min(
      this.bounds.maxRetryMs,
      this.retryDelayMs === 0 ? this.bounds.firstRetryMs : this.retryDelayMs * 2,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, this.retryDelayMs);
  }

  /**
   * Appends to the spill files what fits under the bound and drops the rest. Once full, the
   * queue drops every new event until the backlog drains: what is kept of an outage is all
   * of its beginning, without holes where small events happened to fit.
   */
  private spill(items: readonly IngestItem[], queuedAtMs: number): void {
    if (this.full) return this.dropFull(items.length);
    let start = 0;
    while (start < items.length) {
      const last = this.segments.at(-1);
      const tail = last && last.events < this.bounds.segmentEvents ? last : undefined;
      const wanted = Math.min(
        this.bounds.segmentEvents - (tail?.events ?? 0),
        items.length - start,
      );
      const lines: string[] = [];
      let bytes = 0;
      for (const item of items.slice(start, start + wanted)) {
        const line = spillLine({ item, queuedAtMs });
        const size = Buffer.byteLength(line);
        if (this.spillBytesTotal + bytes + size > this.bounds.spillBytes) break;
        lines.push(line);
        bytes += size;
      }
      if (lines.length > 0) this.appendToSegment(lines, bytes, queuedAtMs, tail);
      start += lines.length;
      if (lines.length < wanted) break;
    }
    if (start < items.length) {
      this.full = true;
      this.dropFull(items.length - start);
    }
  }

  /** Appends lines to the last spill file, or to a new one. */
  private appendToSegment(
    lines: string[],
    bytes: number,
    queuedAtMs: number,
    tail: SpillSegment | undefined,
  ): void {
    const text = lines.join('');
    if (!tail) {
      const path = this.segmentPath(this.nextSegment++);
      writeFileSync(path, text);
      this.segments.push({ path, events: lines.length, bytes, firstQueuedAtMs: queuedAtMs });
    } else {
      appendFileSync(tail.path, text);
      tail.events += lines.length;
      tail.bytes += bytes;
    }
    this.spillBytesTotal += bytes;
  }

  private segmentPath(sequence: number): string {
    return join(this.bounds.spillDir, `segment-${String(sequence).padStart(15, '0')}.jsonl`);
  }

  /** Writes events that were in memory into a spill file ahead of all others (stop). */
  private spillFirst(chunk: QueuedItem[], sequence: number) {
    const content = chunk.map(spillLine).join('');
    const segment: SpillSegment = {
      path: this.segmentPath(sequence),
      events: chunk.length,
      bytes: Buffer.byteLength(content),
      firstQueuedAtMs: chunk[0]!.queuedAtMs,
    };
    writeFileSync(segment.path, content);
    this.spillBytesTotal += segment.bytes;
    this.segments.unshift(segment);
  }

  private dropFull(count: number): void {
    if (count <= 0) return;
    this.droppedFull += count;
    this.options.onDropped?.('backlog_full', count);
  }

  /** Moves the oldest spill file into memory and deletes it; false when there is none. */
  private readSegment(): boolean {
    const segment = this.segments.shift();
    if (!segment) return false;
    const lines = readFileSync(segment.path, 'utf8').split('\n');
    for (const line of lines) {
      if (line) this.memory.push(fromSpillLine(line));
    }
    rmSync(segment.path, { force: true });
    this.spillBytesTotal -= segment.bytes;
    this.full = false;
    return true;
  }

  /** Takes over the spill files a previous run left, oldest first. */
  private adoptSpillFiles(): void {
    const names = readdirSync(this.bounds.spillDir)
      .filter((name) => /^segment-\d+\.jsonl$/.test(name))
      .sort();
    for (const name of names) {
      const path = join(this.bounds.spillDir, name);
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n').filter(Boolean);
      if (lines.length === 0) {
        rmSync(path, { force: true });
        continue;
      }
      const first = JSON.parse(lines[0]!) as SpillLine;
      const bytes = statSync(path).size;
      this.segments.push({ path, events: lines.length, bytes, firstQueuedAtMs: first.t });
      this.spillBytesTotal += bytes;
      const sequence = Number(/\d+/.exec(name)![0]);
      this.nextSegment = Math.max(this.nextSegment, sequence + 1);
      this.lowestSegment = Math.min(this.lowestSegment, sequence);
    }
  }
}

function spillLine({ item, queuedAtMs }: QueuedItem): string {
  const line: SpillLine = { e: item.parsed.event, t: queuedAtMs };
  if (item.raw !== item.parsed.event) line.r = item.raw;
  return `${JSON.stringify(line)}\n`;
}

/**
 * Rebuilds a spilled item. The event was validated before it was queued, and a ParsedEvent is
 * its parts (kind, envelope, body) beside the event itself, so nothing is parsed again.
 */
function fromSpillLine(text: string): QueuedItem {
  const line = JSON.parse(text) as SpillLine;
  const envelope: Record<string, unknown> = {};
  let kind: string | undefined;
  for (const [key, value] of Object.entries(line.e)) {
    if (ENVELOPE_KEYS.has(key)) envelope[key] = value;
    else kind = key;
  }
  const parsed = {
    kind,
    envelope,
    body: (line.e as Record<string, unknown>)[kind!],
    event: line.e,
  } as ParsedEvent;
  return { item: { parsed, raw: 'r' in line ? line.r : line.e }, queuedAtMs: line.t };
}

/** SQLite result codes (better-sqlite3's `code`) of a database that is busy or out of room. */
const PASSING_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|PROTOCOL)/;
/**
 * PostgreSQL SQLSTATE classes and codes of a server that is away or overloaded: connection
 * exceptions (08), insufficient resources (53), operator intervention such as a shutdown (57),
 * serialization failures and deadlocks (40001, 40P01).
 */
const PASSING_SQLSTATE = /^(08|53|57)|^40001$|^40P01$/;
/** Node's errors of a connection that failed or broke. */
const PASSING_SYSTEM = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** Whether an error (or one of its causes) says the store is away for now, not the data wrong. */
export function isPassingStoreError(error: unknown): boolean {
  for (let depth = 0; error instanceof Error && depth < 5; depth++) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (PASSING_SQLITE.test(code) || PASSING_SYSTEM.has(code)) return true;
      if (/^[0-9A-Z]{5}$/.test(code) && PASSING_SQLSTATE.test(code)) return true;
    }
    // pg reports a connection that ended under a query, or that it could not open in time,
    // by message only.
    if (
      /Connection terminated|connection (is )?closed|timeout exceeded when trying to connect/i.test(
        error.message,
      )
    ) {
      return true;
    }
    error = error.cause;
  }
  return false;
}
