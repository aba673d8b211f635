import type { NetworkEdge } from '../tetragon/edges';
import type { TetragonProcess } from '../tetragon/process';

/**
 * How a process came to be under its parent, read from what the events say:
 * - `fork+exec`: the normal case, a fork then an exec (flag `clone`);
 * - `re-exec`: an exec without a fork, the same pid replacing its image (bash -c -> curl);
 * - `fork-only`: a fork that never exec'd (no exec event, the parent's binary, another pid);
 * - `procfs`: found in /proc at agent start, not seen starting;
 * - `root`: no parent (the synthetic `<kernel>` process, whose parent is itself);
 * - `unknown`: not enough is known (the exec was not captured).
 */
export type ProcessRelation = 'fork+exec' | 're-exec' | 'fork-only' | 'procfs' | 'root' | 'unknown';

/**
 * How an execution ended: a status (0 for a clean exit), or a signal; or neither, with a
 * time, when the pid exec'd another image (the execution was replaced, the process lives on);
 * or `unseen`: it ended while no agent was watching, found gone when the agent started again.
 */
export interface ProcessExit {
  /** When it ended; for an unseen end, the latest it can have ended (the agent's start). */
  time?: string;
  status?: number;
  signal?: string;
  /** Ended while the agent was down: no status or signal is known. */
  unseen?: boolean;
  /** For an unseen end, the earliest it can have ended: the last time the agent watched. */
  unseenAfter?: string;
}

/** Whether an execution ended because its pid exec'd another image. */
export function replacedByExec(exit: ProcessExit | undefined): boolean {
  return exit !== undefined && !exit.unseen && exit.status === undefined && !exit.signal;
}

/** How an unseen end reads: "ended unseen between A and B" (times as stored). */
export function endedUnseenText(exit: ProcessExit): string {
  const between =
    exit.unseenAfter && exit.time ? ` between ${exit.unseenAfter} and ${exit.time}` : '';
  return `ended unseen${between}`;
}

/**
 * Network activity of one process, grouped by operation and 4-tuple: the edges events
 * describe, counted, with their byte counts summed and the time of the first.
 */
export type ProcessNetworkEdge = Omit<NetworkEdge, 'state'> & {
  count: number;
  firstTime?: string;
};

/** File activity of one process, grouped by operation and path. */
export interface ProcessFileEdge {
  operation: string;
  path: string;
  count: number;
  bytes?: number;
  firstTime?: string;
}

/**
 * A process as the tree and search show it: Tetragon's process fields, plus what Proctrail
 * knows about it. A placeholder is a process that events name (as a parent, an ancestor or
 * a parent_exec_id) but that was never seen itself.
 */
export type ProcessNode = TetragonProcess & {
  exec_id: string;
  source: string;
  node_name?: string;
  placeholder: boolean;
  relation: ProcessRelation;
  exit?: ProcessExit;
  network: ProcessNetworkEdge[];
  files: ProcessFileEdge[];
};

export type ProcessTreeNode = ProcessNode & {
  children: ProcessTreeNode[];
  /** Children that exist but were left out (depth or size limit). */
  omittedChildren: number;
};

/** The answer of `proctrail tree --json` and of the API's tree query. */
export interface ProcessTree {
  process: ProcessNode;
  /** Root first, ending with the process's parent. */
  ancestors: ProcessNode[];
  children: ProcessTreeNode[];
  /** Descendants left out in all, beyond the depth or size limit. */
  omittedDescendants: number;
  /** True when the ancestry stopped at its length limit (a loop, or an absurdly deep chain). */
  ancestryTruncated: boolean;
}
