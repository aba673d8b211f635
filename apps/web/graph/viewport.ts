import type { GraphLayout, PlacedLink, PlacedNode } from './layout';

/**
 * Which part of a laid-out graph is on screen. A tree of thousands of processes is laid out
 * whole, but only the nodes near the screen exist in the SVG: tens of thousands of SVG
 * elements made the first render take seconds and every pan frame repaint them all.
 * Coordinates are the layout's (pixels at zoom 1); a transform maps them to the screen as
 * `screen = layout * k + (x, y)`, as d3-zoom's transforms do.
 */

export interface Rect {
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export interface ViewTransform {
  x: number;
  y: number;
  k: number;
}

/**
 * Below this zoom labels are too small to read (11 px text drawn under 5 px): nodes are drawn
 * as bare shapes, which keeps a zoomed-out view of thousands of nodes cheap.
 */
export const LABEL_MIN_ZOOM = 0.45;

/** How far a label reaches to the right of its node, in layout pixels (64 characters). */
export const LABEL_REACH = 420;

/** The layout's rectangle on a `width` x `height` screen, grown by `marginPx` screen pixels. */
export function visibleRect(
  transform: ViewTransform,
  width: number,
  height: number,
  marginPx = 0,
): Rect {
  const { x, y, k } = transform;
  return {
    minX: (-marginPx - x) / k,
    maxX: (width + marginPx - x) / k,
    minY: (-marginPx - y) / k,
    maxY: (height + marginPx - y) / k,
  };
}

/** Does `outer` hold all of `inner`? */
export function covers(outer: Rect, inner: Rect): boolean {
  return (
    outer.minX <= inner.minX &&
    outer.maxX >= inner.maxX &&
    outer.minY <= inner.minY &&
    outer.maxY >= inner.maxY
  );
}

/** Is the node's shape, or its label to the right, inside `rect`? */
export function nodeInRect(node: PlacedNode, rect: Rect): boolean {
  return (
    node.x + LABEL_REACH >= rect.minX &&
    node.x - 20 <= rect.maxX &&
    node.y + 20 >= rect.minY &&
    node.y - 20 <= rect.maxY
  );
}

/** Does the link's bounding box meet `rect`? (A tree link stays inside its endpoints' box.) */
export function linkInRect(link: PlacedLink, rect: Rect): boolean {
  const { source, target } = link;
  return (
    Math.max(source.x, target.x) >= rect.minX &&
    Math.min(source.x, target.x) <= rect.maxX &&
    Math.max(source.y, target.y) >= rect.minY &&
    Math.min(source.y, target.y) <= rect.maxY
  );
}

/** The nodes and links to draw for `rect`, in layout order. */
export function inRect(
  layout: GraphLayout,
  rect: Rect,
): { nodes: PlacedNode[]; links: PlacedLink[] } {
  return {
    nodes: layout.nodes.filter((n) => nodeInRect(n, rect)),
    links: layout.links.filter((l) => linkInRect(l, rect)),
  };
}

/** Is the point inside `rect`, `insetPx` (layout pixels) away from its edges? */
export function pointInRect(x: number, y: number, rect: Rect, insetPx = 0): boolean {
  return (
    x >= rect.minX + insetPx &&
    x <= rect.maxX - insetPx &&
    y >= rect.minY + insetPx &&
    y <= rect.maxY - insetPx
  );
}
