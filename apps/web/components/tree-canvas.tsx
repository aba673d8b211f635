'use client';

import { linkHorizontal, select, zoom, zoomIdentity, type Selection, type ZoomBehavior } from 'd3';
import { useEffect, useRef, type KeyboardEvent, type RefObject } from 'react';
import type { Detection } from '@proctrail/schema';
import { detectionsTooltip, worstSeverity } from '../graph/detections';
import { exitLabel } from '../graph/labels';
import type { GraphLayout, PlacedLink, PlacedNode } from '../graph/layout';

/**
 * Draws a laid-out graph with d3 into an SVG. d3 owns the SVG's contents and touches them only
 * inside effects, each of which removes what it added. Every label goes through `.text()`:
 * arguments and paths come from the traced processes and must never become markup.
 */

interface TreeCanvasProps {
  layout: GraphLayout;
  selectedId: string | null;
  /** The node to centre on; changing `centreRequest` centres again. */
  centreId: string;
  centreRequest: number;
  svgRef: RefObject<SVGSVGElement | null>;
  /** Each process's detections by exec_id: a severity-coloured marker on its node. */
  detectionsByExecId: ReadonlyMap<string, Detection[]>;
  onSelect: (id: string) => void;
  onToggle: (id: string) => void;
  onKey: (event: KeyboardEvent<HTMLDivElement>) => void;
}

const LABEL_CHARS = 64;

function shorten(text: string): string {
  return text.length > LABEL_CHARS ? `${text.slice(0, LABEL_CHARS - 1)}…` : text;
}

function nodeClasses(placed: PlacedNode, selectedId: string | null): string {
  const node = placed.node;
  const classes = ['tree-node', node.kind];
  if (node.role === 'target') classes.push('target');
  if (placed.id === selectedId) classes.push('selected');
  const process = node.process;
  if (process) {
    if (process.placeholder) classes.push('placeholder');
    else if (process.exit?.signal) classes.push('killed');
    else if (process.exit) classes.push('exited');
    else classes.push('running');
    if (process.relation === 'procfs') classes.push('procfs');
    if (process.relation === 'fork-only') classes.push('fork-only');
    if (process.relation === 're-exec') classes.push('re-exec');
  }
  return classes.join(' ');
}

function subLabel(placed: PlacedNode): string {
  const node = placed.node;
  if (node.kind !== 'process' || !node.process) {
    return node.kind === 'more' && node.notLoaded > 0 ? 'not loaded: open with a larger cap' : '';
  }
  const parts = [exitLabel(node.process)];
  if (node.process.relation === 're-exec') parts.push('exec, same pid');
  if (node.process.relation === 'fork-only') parts.push('fork only');
  if (node.process.relation === 'procfs') parts.push('procFS');
  if (node.collapsed) parts.push(`▸ ${node.hidden.toLocaleString('en-US')} hidden`);
  return parts.join(' · ');
}

const linkPath = linkHorizontal<PlacedLink, { x: number; y: number }>()
  .source((l) => l.source)
  .target((l) => l.target)
  .x((p) => p.x)
  .y((p) => p.y);

function drawShapes(group: Selection<SVGGElement, PlacedNode, SVGGElement, unknown>) {
  group.append('circle').attr('class', 'halo').attr('r', 13);
  group.each(function (placed) {
    const g = select(this);
    const process = placed.node.process;
    if (placed.node.kind === 'process' && process?.relation === 'fork-only') {
      g.append('path').attr('class', 'shape').attr('d', 'M0,-7L7,0L0,7L-7,0Z');
    } else if (placed.node.kind === 'process') {
      g.append('circle').attr('class', 'shape').attr('r', 6);
      // The same-pid marker: an exec that replaced its caller's image without a fork.
      if (process?.relation === 're-exec') {
        g.append('circle').attr('class', 'same-pid').attr('r', 9.5);
      }
    } else if (placed.node.kind === 'more') {
      g.append('rect')
        .attr('class', 'shape')
        .attr('x', -6)
        .attr('y', -6)
        .attr('width', 12)
        .attr('height', 12);
    } else {
      g.append('rect')
        .attr('class', 'shape')
        .attr('x', -4)
        .attr('y', -4)
        .attr('width', 8)
        .attr('height', 8);
    }
  });
}

export function TreeCanvas(props: TreeCanvasProps) {
  const { layout, selectedId, centreId, centreRequest, svgRef, detectionsByExecId } = props;
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  // The latest callbacks, so the drawing effect does not run again when they change.
  const handlers = useRef(props);
  handlers.current = props;

  // Pan and zoom: one behaviour for the SVG's lifetime.
  useEffect(() => {
    const svg = select(svgRef.current!);
    const viewport = svg.append('g').attr('class', 'viewport');
    const behaviour = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 4])
      .on('zoom', (event) => viewport.attr('transform', event.transform.toString()));
    svg.call(behaviour).on('dblclick.zoom', null);
    zoomRef.current = behaviour;
    return () => {
      svg.on('.zoom', null);
      viewport.remove();
      zoomRef.current = null;
    };
  }, [svgRef]);

  // The drawing: links first so nodes sit on top.
  useEffect(() => {
    const viewport = select(svgRef.current!).select<SVGGElement>('g.viewport');
    const links = viewport.append('g').attr('class', 'links');
    links
      .selectAll('path')
      .data(layout.links)
      .join('path')
      .attr('class', (l) => `tree-link ${l.kind}`)
      .attr('data-source', (l) => l.sourceId)
      .attr('data-target', (l) => l.targetId)
      .attr('d', (l) => linkPath(l));

    const nodes = viewport.append('g').attr('class', 'nodes');
    const groups = nodes
      .selectAll<SVGGElement, PlacedNode>('g')
      .data(layout.nodes, (n) => n.id)
      .join('g')
      .attr('class', (n) => nodeClasses(n, null))
      .attr('data-id', (n) => n.id)
      .attr('data-kind', (n) => n.node.kind)
      .attr('data-relation', (n) => n.node.process?.relation ?? null)
      .attr('transform', (n) => `translate(${n.x},${n.y})`)
      .on('click', (_event, n) => handlers.current.onSelect(n.id))
      .on('dblclick', (_event, n) => handlers.current.onToggle(n.id));
    drawShapes(groups);
    groups
      .append('text')
      .attr('class', 'label')
      .attr('x', 14)
      .attr('y', -4)
      .text((n) => shorten(n.node.label));
    groups
      .append('text')
      .attr('class', 'sub')
      .attr('x', 14)
      .attr('y', 9)
      .text((n) => subLabel(n));
    groups.append('title').text((n) => n.node.label);
    return () => {
      links.remove();
      nodes.remove();
    };
  }, [layout, svgRef]);

  // Detection markers: drawn over the node's shape, top left, coloured by the worst severity.
  // They arrive after the tree, so they have their own effect that removes what it adds.
  useEffect(() => {
    const groups = select(svgRef.current!)
      .selectAll<SVGGElement, PlacedNode>('g.tree-node')
      .filter((n) => n.node.kind === 'process' && detectionsByExecId.has(n.id));
    const badges = groups
      .append('g')
      .attr('class', 'detection-badge')
      .attr('data-severity', (n) => worstSeverity(detectionsByExecId.get(n.id)!) ?? null)
      .attr('data-count', (n) => detectionsByExecId.get(n.id)!.length);
    badges
      .append('circle')
      .attr('class', (n) => `badge severity-${worstSeverity(detectionsByExecId.get(n.id)!)}`)
      .attr('cx', -9)
      .attr('cy', -9)
      .attr('r', 5);
    badges.append('title').text((n) => detectionsTooltip(detectionsByExecId.get(n.id)!));
    return () => {
      badges.remove();
    };
  }, [layout, detectionsByExecId, svgRef]);

  // Selection: only classes change.
  useEffect(() => {
    const groups = select(svgRef.current!).selectAll<SVGGElement, PlacedNode>('g.tree-node');
    groups.classed('selected', (n) => n.id === selectedId);
  }, [layout, selectedId, svgRef]);

  // Centre on the requested node (the target at first, again on "Centre on target").
  const layoutRef = useRef(layout);
  layoutRef.current = layout;
  useEffect(() => {
    const svgElement = svgRef.current!;
    const placed = layoutRef.current.byId.get(centreId);
    if (!placed || !zoomRef.current) return;
    const { width, height } = svgElement.getBoundingClientRect();
    const transform = zoomIdentity.translate(width / 3 - placed.x, height / 2 - placed.y);
    select(svgElement).call(zoomRef.current.transform, transform);
  }, [centreId, centreRequest, svgRef]);

  return (
    <div
      className="tree-frame"
      tabIndex={0}
      role="tree"
      aria-label="Process tree: arrows move, Enter opens, Escape closes the details"
      onKeyDown={(event) => handlers.current.onKey(event)}
      data-testid="tree"
    >
      <svg ref={svgRef} xmlns="http://www.w3.org/2000/svg" />
    </div>
  );
}
