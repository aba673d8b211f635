import {
  processFlags,
  type ProcessFileEdge,
  type ProcessNetworkEdge,
  type ProcessNode,
  type ProcessRelation,
  type TetragonProcess,
} from '@proctrail/schema';
import { SEEN_EXEC, SEEN_SUBJECT } from './event-writer';

/** The executions columns the queries read, as better-sqlite3 returns them. */
export interface ExecutionRow {
  sourceName: string;
  execId: string;
  parentExecId: string | null;
  nodeName: string | null;
  pid: number | null;
  binary: string | null;
  flags: string | null;
  seen: number;
  processJson: string;
  exitTime: string | null;
  exitStatus: number | null;
  exitSignal: string | null;
  endedUnseenAfter: string | null;
}

/** An execution as a process search reads it: with its source and its parent's pid and binary. */
export type SearchRow = ExecutionRow & {
  sourceId: number;
  parentPid: number | null;
  parentBinary: string | null;
};

export const EXECUTION_COLUMNS = `
  s.name AS sourceName, e.exec_id AS execId, e.parent_exec_id AS parentExecId,
  e.node_name AS nodeName, e.pid AS pid, e.binary AS binary, e.flags AS flags, e.seen AS seen,
  e.process_json AS processJson, e.exit_time AS exitTime, e.exit_status AS exitStatus,
  e.exit_signal AS exitSignal, e.ended_unseen_after AS endedUnseenAfter`;

/** Whether the process itself was ever seen, rather than only named by its children. */
export function isPlaceholder(row: Pick<ExecutionRow, 'seen'>): boolean {
  return (row.seen & (SEEN_EXEC | SEEN_SUBJECT)) === 0;
}

/** What relationOf needs to know of the parent. */
export type ParentFacts = Pick<ExecutionRow, 'pid' | 'binary'>;

/** How a process came to be under its parent; see ProcessRelation. */
export function relationOf(row: ExecutionRow, parent: ParentFacts | undefined): ProcessRelation {
  if (!row.parentExecId || row.parentExecId === row.execId) return 'root';
  const flags = processFlags({ flags: row.flags ?? '' });
  if (flags.includes('procFS')) return 'procfs';
  if (flags.includes('clone')) return 'fork+exec';
  const sawExec = (row.seen & SEEN_EXEC) !== 0;
  if (sawExec) return 're-exec';
  if (parent && parent.pid !== row.pid && parent.binary === row.binary && !isPlaceholder(row)) {
    return 'fork-only';
  }
  if (parent && parent.pid === row.pid) return 're-exec';
  return 'unknown';
}

export function toProcessNode(
  row: ExecutionRow,
  parent: ParentFacts | undefined,
  network: ProcessNetworkEdge[] = [],
  files: ProcessFileEdge[] = [],
): ProcessNode {
  // The parsed object is fresh, so it becomes the node itself: copying it into a new object
  // was most of a tree's assembly time. Assignment keeps the key order a spread would give.
  const node = JSON.parse(row.processJson) as TetragonProcess as ProcessNode;
  node.exec_id = row.execId;
  node.source = row.sourceName;
  node.placeholder = isPlaceholder(row);
  node.relation = relationOf(row, parent);
  node.network = network;
  node.files = files;
  if (row.nodeName) node.node_name = row.nodeName;
  if (row.exitTime || row.exitStatus !== null || row.exitSignal) {
    node.exit = {};
    if (row.exitTime) node.exit.time = row.exitTime;
    if (row.exitStatus !== null) node.exit.status = row.exitStatus;
    if (row.exitSignal) node.exit.signal = row.exitSignal;
    if (row.endedUnseenAfter) {
      node.exit.unseen = true;
      node.exit.unseenAfter = row.endedUnseenAfter;
    }
  }
  return node;
}

/** A process known only by the exec_id its child names: nothing else was ever recorded. */
export function unknownProcessNode(execId: string, sourceName: string): ProcessNode {
  return {
    exec_id: execId,
    source: sourceName,
    placeholder: true,
    relation: 'unknown',
    network: [],
    files: [],
  };
}
