import { hierarchy, tree as treeLayout } from 'd3';
import type { GraphNode } from './process-graph';

/**
 * Positions for the graph, left to right: depth along x, siblings along y. d3-hierarchy's tidy
 * tree keeps parents centred on their children and never overlaps subtrees.
 */

export interface PlacedNode {
  id: string;
  x: number;
  y: number;
  depth: number;
  parentId: string | null;
  /** ids of the drawn children, in order. */
  childIds: string[];
  node: GraphNode;
}

export interface PlacedLink {
  id: string;
  sourceId: string;
  targetId: string;
  source: { x: number; y: number };
  target: { x: number; y: number };
  kind: 'process' | 're-exec' | 'network' | 'file' | 'more';
}

export interface GraphLayout {
  nodes: PlacedNode[];
  links: PlacedLink[];
  byId: Map<string, PlacedNode>;
  bounds: { minX: number; maxX: number; minY: number; maxY: number };
}

/** Vertical distance between siblings and horizontal distance between depths, in px. */
export const ROW_HEIGHT = 28;
export const COLUMN_WIDTH = 240;

function linkKind(child: GraphNode): PlacedLink['kind'] {
  if (child.kind !== 'process') return child.kind;
  return child.process?.relation === 're-exec' ? 're-exec' : 'process';
}

export function layoutGraph(root: GraphNode): GraphLayout {
  const h = hierarchy(root, (node) => node.children);
  const placed = treeLayout<GraphNode>()
    .nodeSize([ROW_HEIGHT, COLUMN_WIDTH])
    .separation((a, b) => (a.parent === b.parent ? 1 : 1.25))(h);

  const nodes: PlacedNode[] = [];
  const links: PlacedLink[] = [];
  const bounds = { minX: 0, maxX: 0, minY: 0, maxY: 0 };
  for (const p of placed.descendants()) {
    // d3's x is the breadth axis; drawn left to right, it becomes the screen's y.
    const x = p.y;
    const y = p.x;
    nodes.push({
      id: p.data.id,
      x,
      y,
      depth: p.depth,
      parentId: p.parent?.data.id ?? null,
      childIds: (p.children ?? []).map((c) => c.data.id),
      node: p.data,
    });
    bounds.minX = Math.min(bounds.minX, x);
    bounds.maxX = Math.max(bounds.maxX, x);
    bounds.minY = Math.min(bounds.minY, y);
    bounds.maxY = Math.max(bounds.maxY, y);
    if (p.parent) {
      links.push({
        id: `${p.parent.data.id}->${p.data.id}`,
        sourceId: p.parent.data.id,
        targetId: p.data.id,
        source: { x: p.parent.y, y: p.parent.x },
        target: { x, y },
        kind: linkKind(p.data),
      });
    }
  }
  return { nodes, links, byId: new Map(nodes.map((n) => [n.id, n])), bounds };
}
