import {
  linkHorizontal,
  select,
  zoom,
  zoomIdentity,
  type Selection,
  type ZoomBehavior,
  type ZoomTransform,
} from 'd3';
import type { Detection } from '@proctrail/schema';
import { detectionsTooltip, worstSeverity } from '../graph/detections';
import {
  enforcementsTooltip,
  enforcingPolicies,
  strongestOutcome,
  type Enforcement,
} from '../graph/enforcements';
import { exitLabel } from '../graph/labels';
import type { GraphLayout, PlacedLink, PlacedNode } from '../graph/layout';
import {
  covers,
  inRect,
  LABEL_MIN_ZOOM,
  LABEL_REACH,
  pointInRect,
  visibleRect,
  type Rect,
} from '../graph/viewport';

/**
 * Draws a laid-out graph into an SVG with d3, keeping only the nodes near the screen in the
 * DOM: the layout covers the whole tree, the SVG the screen and one screen around it. Panning
 * past that margin or zooming draws again (a keyed join adds and removes the difference).
 * Every label goes through `.text()`: arguments and paths come from the traced processes and
 * must never become markup.
 */

type GroupSelection = Selection<SVGGElement, PlacedNode, SVGGElement, unknown>;

export interface TreeHandlers {
  onSelect: (id: string) => void;
  onToggle: (id: string) => void;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const LABEL_CHARS = 64;
/**
 * Trees up to this many nodes are drawn whole, labels always on, as they were before culling:
 * a few thousand SVG elements cost little, and a small tree then looks the same at any size
 * of window.
 */
const DRAW_WHOLE_UP_TO = 1_500;
const EVERYWHERE: Rect = { minX: -Infinity, maxX: Infinity, minY: -Infinity, maxY: Infinity };
/** Screen pixels drawn beyond each edge, so that short pans need no drawing at all. */
const MARGIN_SCREENS = 1;
/** A selected node closer than this to the edge (screen pixels) is brought into view. */
const EDGE_INSET_PX = 40;

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

function drawShape(g: Selection<SVGGElement, unknown, null, undefined>, placed: PlacedNode) {
  const process = placed.node.process;
  if (placed.node.kind === 'process' && process?.relation === 'fork-only') {
    g.append('path').attr('class', 'shape').attr('d', 'M0,-7L7,0L0,7L-7,0Z');
  } else if (placed.node.kind === 'process') {
    g.append('circle').attr('class', 'shape').attr('r', 6);
    // The same-pid marker: an exec that replaced its caller's image without a fork.
    if (process?.relation === 're-exec') {
      g.append('circle').attr('class', 'same-pid').attr('r', 9.5);
    }
  } else {
    const half = placed.node.kind === 'more' ? 6 : 4;
    g.append('rect')
      .attr('class', 'shape')
      .attr('x', -half)
      .attr('y', -half)
      .attr('width', half * 2)
      .attr('height', half * 2);
  }
}

/** A marker over the node's shape, top left, coloured by the worst severity of its findings. */
function drawBadge(g: Selection<SVGGElement, unknown, null, undefined>, found: Detection[]) {
  const severity = worstSeverity(found);
  const badge = g
    .append('g')
    .attr('class', 'detection-badge')
    .attr('data-severity', severity ?? null)
    .attr('data-count', found.length);
  badge
    .append('circle')
    .attr('class', `badge severity-${severity}`)
    .attr('cx', -9)
    .attr('cy', -9)
    .attr('r', 5);
  badge.append('title').text(detectionsTooltip(found));
}

/**
 * What a prevention policy did to the process: a square "stop" mark at the node's bottom left
 * (a detection is a round badge at its top left) and the policy's name in its label, solid when
 * the kernel acted, outlined when it only reported (dry run, alert).
 */
function drawEnforcementMark(
  g: Selection<SVGGElement, unknown, null, undefined>,
  found: Enforcement[],
  withLabels: boolean,
) {
  const outcome = strongestOutcome(found)!;
  const policies = enforcingPolicies(found);
  const mark = g
    .append('g')
    .attr('class', `enforcement-mark ${outcome}`)
    .attr('data-outcome', outcome)
    .attr('data-policy', policies.join(' '))
    .attr('data-count', found.length);
  mark
    .append('rect')
    .attr('class', 'stop')
    .attr('x', -15)
    .attr('y', 3)
    .attr('width', 10)
    .attr('height', 10);
  mark.append('path').attr('class', 'cross').attr('d', 'M-12.5,5.5L-7.5,10.5M-7.5,5.5L-12.5,10.5');
  // The name of the policy that acted goes at the end of the node's second line, where
  // there is room; the title lists every policy, report-only ones too.
  if (withLabels) {
    const verb = outcome === 'blocked' ? 'blocked' : outcome === 'dry-run' ? 'dry run' : 'alert';
    g.select('text.sub')
      .append('tspan')
      .attr('class', 'enforcement-label')
      .text(
        ` · ${verb} by ${shorten(enforcingPolicies(found.filter((e) => e.outcome === outcome)).join(', '))}`,
      );
  }
  mark.append('title').text(enforcementsTooltip(found));
}

export class TreeRenderer {
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly viewport: Selection<SVGGElement, unknown, null, undefined>;
  private readonly links: Selection<SVGGElement, unknown, null, undefined>;
  private readonly nodes: Selection<SVGGElement, unknown, null, undefined>;
  private readonly behaviour: ZoomBehavior<SVGSVGElement, unknown>;
  private layout: GraphLayout | null = null;
  private transform: ZoomTransform = zoomIdentity;
  /** The layout rectangle the DOM holds; null when it must be drawn again. */
  private drawnRect: Rect | null = null;
  private drawnWithLabels = true;
  private selectedId: string | null = null;
  private detections: ReadonlyMap<string, Detection[]> = new Map();
  private enforcements: ReadonlyMap<string, Enforcement[]> = new Map();

  constructor(
    private readonly element: SVGSVGElement,
    private readonly handlers: { current: TreeHandlers },
  ) {
    this.svg = select(element);
    this.viewport = this.svg.append('g').attr('class', 'viewport');
    this.links = this.viewport.append('g').attr('class', 'links');
    this.nodes = this.viewport.append('g').attr('class', 'nodes');
    // One listener for every node: adding two to each of hundreds of nodes on every pan cost
    // more than the nodes' drawing.
    this.nodes
      .on('click', (event: MouseEvent) =>
        this.nodeAt(event, (id) => this.handlers.current.onSelect(id)),
      )
      .on('dblclick', (event: MouseEvent) =>
        this.nodeAt(event, (id) => this.handlers.current.onToggle(id)),
      );
    this.behaviour = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 4])
      .on('zoom', (event: { transform: ZoomTransform }) => this.moved(event.transform))
      .on('end', () => this.svg.classed('moving', false));
    this.svg.call(this.behaviour).on('dblclick.zoom', null);
  }

  destroy(): void {
    this.svg.on('.zoom', null);
    this.nodes.on('click', null).on('dblclick', null);
    this.viewport.remove();
    this.element.removeAttribute('data-laid-out');
    this.element.removeAttribute('data-processes');
    this.element.removeAttribute('data-drawn');
  }

  /** Draws a new layout at the current zoom, or centred on node `centreId` when given. */
  setLayout(layout: GraphLayout, centreId?: string): void {
    this.layout = layout;
    // For tests and benchmarks: how much of the tree is laid out, how much is in the DOM.
    this.element.setAttribute('data-laid-out', String(layout.nodes.length));
    const processes = layout.nodes.filter((n) => n.node.kind === 'process').length;
    this.element.setAttribute('data-processes', String(processes));
    // Positions and labels change with the layout: start the DOM afresh.
    this.nodes.selectAll('*').remove();
    this.links.selectAll('*').remove();
    this.drawnRect = null;
    if (centreId !== undefined && layout.byId.has(centreId)) this.centreOn(centreId);
    else this.draw();
  }

  setSelected(id: string | null): void {
    this.selectedId = id;
    this.nodes
      .selectAll<SVGGElement, PlacedNode>('g.tree-node')
      .classed('selected', (n) => n.id === id);
  }

  setDetections(byExecId: ReadonlyMap<string, Detection[]>): void {
    this.detections = byExecId;
    this.nodes.selectAll('g.detection-badge').remove();
    this.nodes.selectAll<SVGGElement, PlacedNode>('g.tree-node').each((placed, i, groups) => {
      this.addBadge(groups[i] as SVGGElement, placed);
    });
  }

  setEnforcements(byExecId: ReadonlyMap<string, Enforcement[]>): void {
    this.enforcements = byExecId;
    this.nodes.selectAll('g.enforcement-mark, tspan.enforcement-label').remove();
    this.nodes.selectAll<SVGGElement, PlacedNode>('g.tree-node').each((placed, i, groups) => {
      this.addEnforcementMark(groups[i] as SVGGElement, placed, this.drawnWithLabels);
    });
  }

  /** Moves the view so that node `id` sits a third in from the left, half way down. */
  centreOn(id: string): void {
    const placed = this.layout?.byId.get(id);
    if (!placed) return;
    const { width, height } = this.size();
    const k = this.transform.k;
    const target = zoomIdentity
      .translate(width / 3 - placed.x * k, height / 2 - placed.y * k)
      .scale(k);
    this.svg.call(this.behaviour.transform, target);
  }

  /** Brings node `id` on screen when it is off it (keyboard moves can leave the screen). */
  reveal(id: string): void {
    const placed = this.layout?.byId.get(id);
    if (!placed) return;
    const { width, height } = this.size();
    const inset = EDGE_INSET_PX / this.transform.k;
    if (!pointInRect(placed.x, placed.y, visibleRect(this.transform, width, height), inset)) {
      this.centreOn(id);
    }
  }

  /**
   * The whole tree as a standalone SVG file, every node drawn with its labels. The colours come
   * from the page's stylesheet, so the drawing is made in a hidden SVG on the page and each
   * element's computed fill and stroke are copied inline.
   */
  exportSvg(): string {
    const layout = this.layout;
    if (!layout) return '';
    const scratch = document.createElementNS(SVG_NS, 'svg');
    scratch.setAttribute('style', 'position:absolute;left:-100000px;top:0;visibility:hidden');
    this.element.parentElement!.appendChild(scratch);
    try {
      const root = select(scratch).append('g');
      const linkLayer = root.append('g');
      this.join(root.append('g'), linkLayer, layout.nodes, layout.links, true);
      const style = getComputedStyle(this.element.parentElement!);
      for (const element of scratch.querySelectorAll<SVGElement>('*')) {
        const computed = getComputedStyle(element);
        for (const property of [
          'fill',
          'stroke',
          'stroke-width',
          'stroke-dasharray',
          'font-size',
        ]) {
          element.style.setProperty(property, computed.getPropertyValue(property));
        }
      }
      const { minX, maxX, minY, maxY } = layout.bounds;
      const box = [minX - 30, minY - 30, maxX - minX + LABEL_REACH + 60, maxY - minY + 60];
      scratch.setAttribute('xmlns', SVG_NS);
      scratch.setAttribute('viewBox', box.join(' '));
      scratch.setAttribute('width', String(box[2]));
      scratch.setAttribute('height', String(box[3]));
      scratch.setAttribute('style', `background:${style.backgroundColor}`);
      return new XMLSerializer().serializeToString(scratch);
    } finally {
      scratch.remove();
    }
  }

  /** Calls `action` with the id of the node an event happened on, if any. */
  private nodeAt(event: MouseEvent, action: (id: string) => void): void {
    const group = (event.target as Element).closest('g.tree-node');
    const id = group?.getAttribute('data-id');
    if (id) action(id);
  }

  private size(): { width: number; height: number } {
    return { width: this.element.clientWidth || 1, height: this.element.clientHeight || 1 };
  }

  /** A zoom or pan: move the drawing, and draw again when the screen left the drawn part. */
  private moved(transform: ZoomTransform): void {
    // Hit testing inside the tree is off while it moves (set on the first move, not on the
    // press: a click that does not move must still reach its node).
    this.svg.classed('moving', true);
    this.transform = transform;
    this.viewport.attr('transform', transform.toString());
    const { width, height } = this.size();
    const withLabels = this.labelsAt(transform.k);
    const onScreen = visibleRect(transform, width, height);
    if (
      withLabels !== this.drawnWithLabels ||
      !this.drawnRect ||
      !covers(this.drawnRect, onScreen)
    ) {
      this.draw();
    }
  }

  private wholeTree(): boolean {
    return (this.layout?.nodes.length ?? 0) <= DRAW_WHOLE_UP_TO;
  }

  private labelsAt(zoom: number): boolean {
    return this.wholeTree() || zoom >= LABEL_MIN_ZOOM;
  }

  private draw(): void {
    const layout = this.layout;
    if (!layout) return;
    const { width, height } = this.size();
    const withLabels = this.labelsAt(this.transform.k);
    if (withLabels !== this.drawnWithLabels) {
      this.nodes.selectAll('*').remove();
      this.drawnWithLabels = withLabels;
    }
    const margin = Math.max(width, height) * MARGIN_SCREENS;
    const rect = this.wholeTree() ? EVERYWHERE : visibleRect(this.transform, width, height, margin);
    const { nodes, links } = inRect(layout, rect);
    this.join(this.nodes, this.links, nodes, links, withLabels);
    this.drawnRect = rect;
    this.element.setAttribute('data-drawn', String(nodes.length));
  }

  /** Keyed joins: nodes and links already drawn stay, new ones are added, others removed. */
  private join(
    nodeLayer: Selection<SVGGElement, unknown, null, undefined>,
    linkLayer: Selection<SVGGElement, unknown, null, undefined>,
    nodes: PlacedNode[],
    links: PlacedLink[],
    withLabels: boolean,
  ): void {
    linkLayer
      .selectAll<SVGPathElement, PlacedLink>('path')
      .data(links, (l) => l.id)
      .join((enter) =>
        enter
          .append('path')
          .attr('class', (l) => `tree-link ${l.kind}`)
          .attr('data-source', (l) => l.sourceId)
          .attr('data-target', (l) => l.targetId)
          .attr('d', (l) => linkPath(l)),
      );
    nodeLayer
      .selectAll<SVGGElement, PlacedNode>('g.tree-node')
      .data(nodes, (n) => n.id)
      .join((enter) => this.enterNodes(enter.append('g'), withLabels));
  }

  private enterNodes(groups: GroupSelection, withLabels: boolean): GroupSelection {
    groups
      .attr('class', (n) => nodeClasses(n, this.selectedId))
      .attr('data-id', (n) => n.id)
      .attr('data-kind', (n) => n.node.kind)
      .attr('data-relation', (n) => n.node.process?.relation ?? null)
      .attr('transform', (n) => `translate(${n.x},${n.y})`);
    groups.each((placed, i, elements) => {
      const g = select(elements[i] as SVGGElement);
      g.append('circle').attr('class', 'halo').attr('r', 13);
      drawShape(g, placed);
      if (withLabels) {
        g.append('text')
          .attr('class', 'label')
          .attr('x', 14)
          .attr('y', -4)
          .text(shorten(placed.node.label));
        g.append('text').attr('class', 'sub').attr('x', 14).attr('y', 9).text(subLabel(placed));
      }
      g.append('title').text(placed.node.label);
      this.addBadge(elements[i] as SVGGElement, placed);
      this.addEnforcementMark(elements[i] as SVGGElement, placed, withLabels);
    });
    return groups;
  }

  private addEnforcementMark(element: SVGGElement, placed: PlacedNode, withLabels: boolean): void {
    if (placed.node.kind !== 'process') return;
    const found = this.enforcements.get(placed.id);
    if (found && found.length > 0) drawEnforcementMark(select(element), found, withLabels);
  }

  private addBadge(element: SVGGElement, placed: PlacedNode): void {
    if (placed.node.kind !== 'process') return;
    const found = this.detections.get(placed.id);
    if (found && found.length > 0) drawBadge(select(element), found);
  }
}
