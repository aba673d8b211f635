import type {
  ProcessFileEdge,
  ProcessNetworkEdge,
  ProcessNode,
  ProcessTree,
  ProcessTreeNode,
} from '@proctrail/schema';
import { fileLabel, formatCount, networkLabel, processLabel } from './labels';

/**
 * The drawable tree of one process: the ancestry from the root down to the target, the target's
 * descendants, and each process's network peers and files as leaves. Pure: the same tree and
 * options always give the same graph, so it is tested without a browser.
 */

export type GraphNodeKind = 'process' | 'network' | 'file' | 'more';

export interface GraphNode {
  /** Unique in the graph: the exec_id for processes, derived ids for leaves. */
  id: string;
  kind: GraphNodeKind;
  label: string;
  process?: ProcessNode;
  network?: ProcessNetworkEdge;
  file?: ProcessFileEdge;
  /** The process whose page a "more" node leads to (its parent). */
  moreOf?: string;
  /** For "more": children not drawn; for a collapsed process: descendants hidden. */
  hidden: number;
  /** Children exist but the API left them out (depth or size cap): only the page can show them. */
  notLoaded: number;
  collapsed: boolean;
  /** On the path from the root to the target, or the target itself. */
  role: 'ancestor' | 'target' | 'descendant';
  children: GraphNode[];
}

export interface GraphOptions {
  /** Draw network peers and files as leaves. */
  showLeaves: boolean;
  /** exec_ids whose children are folded away. */
  collapsed: ReadonlySet<string>;
  /** exec_ids whose children are all drawn, past the cap. */
  expanded: ReadonlySet<string>;
  /** Children drawn per process before the rest are grouped as "+ N more". */
  childCap: number;
}

export const DEFAULT_CHILD_CAP = 50;

function leavesOf(process: ProcessNode): GraphNode[] {
  const base = { hidden: 0, notLoaded: 0, collapsed: false, role: 'descendant' as const };
  const network = process.network.map((edge, i) => ({
    ...base,
    id: `${process.exec_id}#net${i}`,
    kind: 'network' as const,
    label: networkLabel(edge),
    network: edge,
    children: [],
  }));
  const files = process.files.map((edge, i) => ({
    ...base,
    id: `${process.exec_id}#file${i}`,
    kind: 'file' as const,
    label: fileLabel(edge),
    file: edge,
    children: [],
  }));
  return [...network, ...files];
}

function countDescendants(node: ProcessTreeNode): number {
  let count = node.omittedChildren;
  for (const child of node.children) count += 1 + countDescendants(child);
  return count;
}

function moreNode(parent: ProcessNode, drawnLater: number, notLoaded: number): GraphNode {
  const total = drawnLater + notLoaded;
  return {
    id: `${parent.exec_id}#more`,
    kind: 'more',
    label: `+ ${formatCount(total)} more`,
    moreOf: parent.exec_id,
    hidden: drawnLater,
    notLoaded,
    collapsed: false,
    role: 'descendant',
    children: [],
  };
}

function processNode(
  process: ProcessNode,
  role: GraphNode['role'],
  children: GraphNode[],
  collapsedCount: number,
): GraphNode {
  return {
    id: process.exec_id,
    kind: 'process',
    label: processLabel(process),
    process,
    hidden: collapsedCount,
    notLoaded: 0,
    collapsed: collapsedCount > 0,
    role,
    children,
  };
}

function compareText(a = '', b = ''): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function descendantNode(node: ProcessTreeNode, options: GraphOptions): GraphNode {
  if (options.collapsed.has(node.exec_id)) {
    const hidden = countDescendants(node) + (options.showLeaves ? leavesOf(node).length : 0);
    return processNode(node, 'descendant', [], Math.max(hidden, 1));
  }
  // Plain string order: start times share one RFC 3339 form, and localeCompare was a tenth
  // of a 5,000-process tree's drawing time.
  const sorted = [...node.children].sort((a, b) => compareText(a.start_time, b.start_time));
  const cap = options.expanded.has(node.exec_id) ? Infinity : options.childCap;
  const shown = sorted.slice(0, cap).map((child) => descendantNode(child, options));
  const beyondCap = sorted.length - shown.length;
  if (beyondCap > 0 || node.omittedChildren > 0) {
    shown.push(moreNode(node, beyondCap, node.omittedChildren));
  }
  const leaves = options.showLeaves ? leavesOf(node) : [];
  return processNode(node, 'descendant', [...leaves, ...shown], 0);
}

/** The graph of a tree answer: root first, a single path down to the target, then its subtree. */
export function buildProcessGraph(tree: ProcessTree, options: GraphOptions): GraphNode {
  const target = descendantNode(
    { ...tree.process, children: tree.children, omittedChildren: 0 },
    options,
  );
  target.role = 'target';
  if (tree.omittedDescendants > 0 && !target.collapsed) {
    const counted = target.children.find((c) => c.kind === 'more');
    if (!counted) target.children.push(moreNode(tree.process, 0, tree.omittedDescendants));
  }

  let below = target;
  for (let i = tree.ancestors.length - 1; i >= 0; i--) {
    const ancestor = tree.ancestors[i]!;
    const folded = options.collapsed.has(ancestor.exec_id);
    const leaves = options.showLeaves && !folded ? leavesOf(ancestor) : [];
    below = processNode(
      ancestor,
      'ancestor',
      folded ? [] : [...leaves, below],
      folded ? 1 + countGraph(below) : 0,
    );
  }
  return below;
}

/** Nodes in a graph (the node itself included). */
export function countGraph(node: GraphNode): number {
  let count = 1;
  for (const child of node.children) count += countGraph(child);
  return count;
}

/** Every process of the tree answer, ancestors first: the rows of an export. */
export function processesOf(tree: ProcessTree): ProcessNode[] {
  const found: ProcessNode[] = [...tree.ancestors, tree.process];
  const visit = (nodes: ProcessTreeNode[]) => {
    for (const node of nodes) {
      const { children, ...process } = node;
      found.push(process as ProcessNode);
      visit(children);
    }
  };
  visit(tree.children);
  return found;
}

/** exec_ids of every process that has children in the tree answer: "collapse all". */
export function parentsOf(tree: ProcessTree): string[] {
  const ids: string[] = [];
  const visit = (nodes: ProcessTreeNode[]) => {
    for (const node of nodes) {
      if (node.children.length > 0) ids.push(node.exec_id);
      visit(node.children);
    }
  };
  visit(tree.children);
  return ids;
}
