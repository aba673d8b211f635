import type {
  Detection,
  DetectionFilters,
  EventKind,
  InventorySearchResult,
  ParsedEvent,
  ProcessNode,
  SoftwareLoad,
  ProcessTree,
  StatsSummary,
  TetragonProcess,
  ValidEventFilters,
  ValidInventoryFilters,
  ValidProcessFilters,
} from '@proctrail/schema';
import type { Finding } from '../detection/engine';

/** A software load of one execution, for Store.writeSoftwareLoads. */
export interface SoftwareLoadRow extends SoftwareLoad {
  execId: string;
  nodeName?: string;
  /** When it was loaded, RFC 3339 (the store keeps its sortable form). */
  time?: string;
}

/** One event on its way into a store: validated, with the JSON it came from. */
export interface IngestItem {
  parsed: ParsedEvent;
  /** The event as decoded JSON, unknown fields included: this is what export gives back. */
  raw: unknown;
}

/**
 * An event as stored. Ids increase with every write, across sources, so a live subscriber can
 * resume after the last id it saw.
 */
export interface StoredEvent {
  id: number;
  sourceId: number;
  kind: EventKind;
  /** In the sortable form of toSortableTime; null when the event carries no time. */
  time: string | null;
  execId: string | null;
  nodeName: string | null;
  /** The event as canonical Tetragon JSON (what export prints). */
  json: string;
}

/** What one batch changed. */
export interface WriteResult {
  /** The events this batch stored, in order; duplicates are not among them. */
  events: StoredEvent[];
  /** Events stored; duplicates of stored events are not counted here. */
  stored: number;
  duplicates: number;
  byKind: Record<string, number>;
  /** Events whose process had no exec_id. */
  unattributed: number;
  /** exec_ids named by two different exec events: two hosts with one node name, or a reboot. */
  collisions: string[];
  /** Detections stored with the batch: what its rules (FindInBatch) found, less duplicates. */
  detections: Detection[];
}

/**
 * Rules run on a batch just written, before it commits: what they find is stored with the
 * events that fired it, in the same transaction, so one commit serves both and an event is
 * never stored without its detection. Must not wait on anything: it runs while the
 * transaction is open.
 */
export type FindInBatch = (result: WriteResult) => readonly Finding[];

export interface SourceInfo {
  id: number;
  name: string;
  kind: 'import' | 'agent';
}

export interface TreeOptions {
  /** How many levels of descendants to return. */
  maxDepth?: number;
  /** How many descendants at most, nearest first. */
  maxDescendants?: number;
}

/** Bounds of a time range, RFC 3339, both inclusive; either may be absent. */
export interface TimeRange {
  since?: string;
  until?: string;
}

/** What the store holds, counted; the API's stats.summary adds what the sensor lost. */
export type StoreStats = Omit<StatsSummary, 'lost' | 'lastEventTime'>;

/** A stored process matched by a search. */
export type ProcessMatch = ProcessNode;

/**
 * What every store (SQLite, PostgreSQL) offers the rest of the agent. Methods are async so
 * that a network database fits the same shape.
 */
export interface Store {
  source(name: string, kind: SourceInfo['kind']): Promise<SourceInfo>;
  write(
    source: SourceInfo,
    items: readonly IngestItem[],
    findInBatch?: FindInBatch,
  ): Promise<WriteResult>;
  /**
   * Gives exec_id-less events of a source the exec_id of the process with their pid and start.
   * Returns how many it attributed, and how many events of the source remain without one.
   */
  attributeOrphans(source: SourceInfo): Promise<{ attributed: number; remaining: number }>;
  /** The sources in which a process with this exec_id is stored. */
  sourcesOf(execId: string): Promise<SourceInfo[]>;
  tree(source: SourceInfo, execId: string, options?: TreeOptions): Promise<ProcessTree | undefined>;
  /** Newest first; `offset` skips that many matches (the API's pages). */
  search(filters: ValidProcessFilters, offset?: number): Promise<ProcessMatch[]>;
  /** Stored events as lines of Tetragon JSON, oldest first; `since`/`until` bound event times. */
  exportEvents(
    filters: Omit<ValidProcessFilters, 'limit'> & { limit?: number },
  ): AsyncIterable<string>;
  /**
   * The process objects of a source's executions that have not exited, oldest first: after
   * a restart, the agent gives the processes still running the exec_ids they had.
   */
  runningExecutions(source: SourceInfo): Promise<TetragonProcess[]>;
  /**
   * Marks open executions of a source as ended while no agent watched: found gone when the
   * agent started at `foundGoneAt` (sortable time). Their exit time becomes `foundGoneAt`, the
   * latest they can have ended, and the earliest is the time of the source's last stored event
   * (no earlier than their own start). Returns how many it marked.
   */
  endUnseen(source: SourceInfo, execIds: readonly string[], foundGoneAt: string): Promise<number>;
  counts(): Promise<{
    events: number;
    executions: number;
    placeholders: number;
    unattributed: number;
  }>;
  /**
   * Stored events with ids above `afterId` matching `filters`, in id order, `limit` at most:
   * the API's event pages, and what a live subscriber missed beyond the bus's memory.
   */
  eventsAfter(afterId: number, filters: ValidEventFilters, limit: number): Promise<StoredEvent[]>;
  sourceNamed(name: string): Promise<SourceInfo | undefined>;
  /** Counts; with a range, of the events in it and of the executions started in it. */
  stats(topBinaries: number, range?: TimeRange): Promise<StoreStats>;
  /** The newest stored event's id and time; undefined for an empty store. */
  lastEvent(): Promise<{ id: number; time: string | null } | undefined>;
  /**
   * Retention: deletes events older than `before` (sortable time) and, while the live data
   * is larger than `maxBytes`, the oldest events; executions go once nothing refers to them.
   */
  prune(options: {
    before?: string;
    maxBytes?: number;
  }): Promise<{ events: number; executions: number }>;
  /**
   * The stored process with this exec_id, then its parent, grandparent, ... (at most `limit`),
   * as their richest Tetragon process objects: the ancestry detection rules look at.
   */
  processChain(source: SourceInfo, execId: string, limit: number): Promise<TetragonProcess[]>;
  /** Stores findings; returns those that were new, the others being stored already. */
  saveDetections(source: SourceInfo, findings: readonly Finding[]): Promise<Detection[]>;
  /** Stored detections matching `filters`, newest first. */
  detections(filters: DetectionFilters): Promise<Detection[]>;
  /**
   * The software inventory (software_loads): loads matching `filters`, newest first, and per
   * file how many processes loaded it, how many still run, and when it was last loaded.
   * Optional while a store does not keep the inventory yet; callers say so when absent.
   */
  inventory?(filters: ValidInventoryFilters): Promise<InventorySearchResult>;
  /**
   * Stores library loads the agent recorded without an event of their own (the compact form:
   * a row per load rather than a process_loader event per load). One row per (source,
   * exec_id, role, path), as the rows events make.
   */
  writeSoftwareLoads?(source: SourceInfo, loads: readonly SoftwareLoadRow[]): Promise<void>;
  close(): Promise<void>;
}
