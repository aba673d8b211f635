import type {
  ProcessFileEdge,
  ProcessNetworkEdge,
  ProcessNode,
  ProcessTree,
  ProcessTreeNode,
} from '@proctrail/schema';
import { toProcessNode, unknownProcessNode, type ExecutionRow } from '../sqlite/process-rows';

/* How both stores build a process tree from the rows their own SQL read: the bounds, the row
   shapes and the assembly. The queries stay with each store. */

/** Ancestry longer than this is a loop in the data (or nonsense): stop and say so. */
export const MAX_ANCESTRY = 256;
export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_DESCENDANTS = 1000;

export type AncestryRow = ExecutionRow & { chainExecId: string; depth: number };
export type DescendantRow = ExecutionRow & { depth: number };

/** One child row as the stores' CHILDREN_SQL returns it: an array, in descendantRow's order. */
export type DescendantColumns = [
  string,
  string | null,
  string | null,
  number | null,
  string | null,
  string | null,
  number,
  string,
  string | null,
  number | null,
  string | null,
  string | null,
];

export function descendantRow(
  sourceName: string,
  depth: number,
  c: DescendantColumns,
): DescendantRow {
  return {
    depth,
    sourceName,
    execId: c[0],
    parentExecId: c[1],
    nodeName: c[2],
    pid: c[3],
    binary: c[4],
    flags: c[5],
    seen: c[6],
    processJson: c[7],
    exitTime: c[8],
    exitStatus: c[9],
    exitSignal: c[10],
    endedUnseenAfter: c[11],
  };
}

/** A walk's outcome: see DescendantWalk. */
export interface Descendants {
  kept: DescendantRow[];
  /** Children in all, per process whose children were all read. */
  childCounts: Map<string, number>;
  /** Processes whose children were not all read: the store counts theirs. */
  uncounted: string[];
}

/**
 * Descendants breadth first (nearest first), so a size limit cuts the farthest ones; the
 * children of each level in the order of their parents. The store reads each level that
 * next() asks for and hands its rows to take(); every process whose children were all read
 * gets its count of children here, the others are `uncounted`.
 */
export class DescendantWalk {
  private readonly kept: DescendantRow[] = [];
  private readonly childCounts = new Map<string, number>();
  private level: string[];
  private depth = 0;
  private room = 0;
  private uncounted: string[] | undefined;

  constructor(
    private readonly execId: string,
    private readonly maxDepth: number,
    private readonly maxDescendants: number,
  ) {
    this.level = [execId];
  }

  /**
   * The parents whose children to read next, their depth, and how many rows to read at most
   * (one more than there is room for tells whether the level was cut); undefined when done.
   */
  next(): { level: string[]; depth: number; limit: number } | undefined {
    if (this.uncounted) return undefined;
    const depth = this.depth + 1;
    if (depth > this.maxDepth || this.level.length === 0) return undefined;
    this.room = this.maxDescendants - this.kept.length;
    if (this.room <= 0) return undefined;
    this.depth = depth;
    return { level: this.level, depth, limit: this.room + 1 };
  }

  /** Takes the rows read for the level next() gave, in their order. */
  take(children: DescendantRow[]): void {
    const { level, room } = this;
    const cut = children.length > room;
    if (cut) children.length = room;
    // Parents before the last one read have all their children here; the rest are counted.
    const complete = cut
      ? level.indexOf(children.at(-1)?.parentExecId ?? this.execId)
      : level.length;
    for (const parent of level.slice(0, complete)) this.childCounts.set(parent, 0);
    for (const child of children) {
      const parent = child.parentExecId!;
      if (this.childCounts.has(parent)) {
        this.childCounts.set(parent, this.childCounts.get(parent)! + 1);
      }
    }
    this.kept.push(...children);
    if (cut) this.uncounted = [...level.slice(complete), ...children.map((r) => r.execId)];
    else this.level = children.map((r) => r.execId);
  }

  result(): Descendants {
    const { kept, childCounts } = this;
    return { kept, childCounts, uncounted: this.uncounted ?? this.level };
  }
}

/** The exec_ids whose network and file activity a tree shows: its ancestry and descendants. */
export function treeExecIds(chain: AncestryRow[], kept: DescendantRow[]): string[] {
  return [...chain.filter((r) => r.execId).map((r) => r.execId), ...kept.map((r) => r.execId)];
}

/** What a store read for one tree; `chain` starts at the process itself and is not empty. */
export interface TreeRows {
  sourceName: string;
  chain: AncestryRow[];
  kept: DescendantRow[];
  /** Children in all, per process whose count is known. */
  childCounts: Map<string, number>;
  network: Map<string, ProcessNetworkEdge[]>;
  files: Map<string, ProcessFileEdge[]>;
}

/** The tree of the process at chain[0]: its ancestry, its linked descendants and what was cut. */
export function assembleTree(rows: TreeRows): ProcessTree {
  const { sourceName, chain, kept, childCounts, network, files } = rows;
  const ancestryTruncated = chain.at(-1)!.depth >= MAX_ANCESTRY;
  const node = (row: ExecutionRow, parent: ExecutionRow | undefined) =>
    toProcessNode(row, parent, network.get(row.execId), files.get(row.execId));

  const self = node(chain[0]!, chain[1]?.execId ? chain[1] : undefined);
  const ancestors: ProcessNode[] = [];
  for (let i = chain.length - 1; i >= 1; i--) {
    const row = chain[i]!;
    const parent = chain[i + 1]?.execId ? chain[i + 1] : undefined;
    ancestors.push(
      row.execId ? node(row, parent) : unknownProcessNode(row.chainExecId, sourceName),
    );
  }

  const children = assemble(chain[0]!, kept, node, childCounts);
  const childrenInAll = [...childCounts.values()].reduce((a, b) => a + b, 0);
  return {
    process: self,
    ancestors,
    children: children.children,
    omittedDescendants: childrenInAll - kept.length,
    ancestryTruncated,
  };
}

/** Links descendant rows under their parents, and counts each node's children left out. */
function assemble(
  root: ExecutionRow,
  rows: DescendantRow[],
  node: (row: ExecutionRow, parent: ExecutionRow | undefined) => ProcessNode,
  childCounts: Map<string, number>,
): ProcessTreeNode {
  const byId = new Map<string, { row: ExecutionRow; tree: ProcessTreeNode }>();
  const rootTree = treeNode(node(root, undefined));
  byId.set(root.execId, { row: root, tree: rootTree });
  for (const row of rows) {
    const parent = byId.get(row.parentExecId!);
    if (!parent) continue;
    const tree = treeNode(node(row, parent.row));
    parent.tree.children.push(tree);
    byId.set(row.execId, { row, tree });
  }
  for (const { row, tree } of byId.values()) {
    tree.omittedChildren = (childCounts.get(row.execId) ?? 0) - tree.children.length;
  }
  return rootTree;
}

/** Turns a fresh node into a tree node in place: no copy of its (many) process fields. */
function treeNode(node: ProcessNode): ProcessTreeNode {
  const tree = node as ProcessTreeNode;
  tree.children = [];
  tree.omittedChildren = 0;
  return tree;
}

/** Groups edge rows by their process, dropping NULL columns as absent fields. */
export function groupByExec<T extends { execId: string }>(
  rows: T[],
): Map<string, Omit<T, 'execId'>[]> {
  const byExec = new Map<string, Omit<T, 'execId'>[]>();
  for (const row of rows) {
    // Copied field by field rather than deleting the NULL ones: a delete turns each of a
    // thousand edges into a slow dictionary-mode object.
    const edge: Record<string, unknown> = {};
    for (const key in row) {
      if (key !== 'execId' && row[key] !== null) edge[key] = row[key];
    }
    const list = byExec.get(row.execId);
    if (list) list.push(edge as Omit<T, 'execId'>);
    else byExec.set(row.execId, [edge as Omit<T, 'execId'>]);
  }
  return byExec;
}
