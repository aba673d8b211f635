import { z } from 'zod';
import { timestamp } from '../tetragon/scalars';

export const statsSummaryInputSchema = z
  .object({
    /** How many binaries to list, most events first. */
    topBinaries: z.number().int().min(1).max(1000).default(20),
    /** Count only events at or after this time, and executions started at or after it. */
    since: timestamp.optional(),
    /** Count only events at or before this time, and executions started at or before it. */
    until: timestamp.optional(),
  })
  .default({ topBinaries: 20 });

export type StatsSummaryInput = z.input<typeof statsSummaryInputSchema>;

/**
 * Events the live sensor could not deliver, by reason ("ringbuf" for records the kernel could
 * not write, "queue" for a full queue in user space, ...). Reported by the pipeline; absent
 * when the API serves a database without a sensor.
 */
export interface LostEvents {
  total: number;
  byReason: Record<string, number>;
}

/** The most pods stats.summary lists (byPod): a picker's worth, not an inventory. */
export const POD_LIST_LIMIT = 2000;

export interface StatsSummary {
  events: number;
  byKind: Record<string, number>;
  /** The binaries with the most events, most first. */
  byBinary: Array<{ binary: string; events: number }>;
  /**
   * Every node with events in the range, busiest first: its last event there and its rate over
   * the range (an open end is the node's own first or last event; at least a minute).
   */
  byNode: Array<{
    node: string;
    events: number;
    lastEventTime: string | null;
    eventsPerMinute: number;
  }>;
  /**
   * The Kubernetes pods whose processes started in the range (all pods without one), by node,
   * namespace and name (at most POD_LIST_LIMIT), with how many processes each had.
   */
  byPod: Array<{ node: string; namespace: string; pod: string; processes: number }>;
  executions: number;
  /** Processes named by others (as parent or ancestor) but never seen themselves. */
  placeholders: number;
  /** Events about a process that carried no exec_id and matched none by pid and start time. */
  unattributed: number;
  /** Null when no sensor runs: a database served on its own loses nothing. */
  lost: LostEvents | null;
  lastEventTime: string | null;
}
