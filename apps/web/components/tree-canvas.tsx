'use client';

import { useEffect, useRef, type KeyboardEvent, type RefObject } from 'react';
import type { Detection } from '@proctrail/schema';
import type { Enforcement } from '../graph/enforcements';
import type { GraphLayout } from '../graph/layout';
import { TreeRenderer } from './tree-renderer';

/**
 * The process tree's SVG. A TreeRenderer owns the SVG's contents: it is made in an effect and
 * removes what it drew when the component goes; the other effects hand it what changed.
 */

interface TreeCanvasProps {
  layout: GraphLayout;
  selectedId: string | null;
  /** The node to centre on; changing `centreRequest` centres again. */
  centreId: string;
  centreRequest: number;
  /** Filled with a function that returns the whole tree as a standalone SVG file. */
  exportRef: RefObject<(() => string) | null>;
  /** Each process's detections by exec_id: a severity-coloured marker on its node. */
  detectionsByExecId: ReadonlyMap<string, Detection[]>;
  /** What prevention policies did to each process, by exec_id: a stop mark on its node. */
  enforcementsByExecId: ReadonlyMap<string, Enforcement[]>;
  onSelect: (id: string) => void;
  onToggle: (id: string) => void;
  onKey: (event: KeyboardEvent<HTMLDivElement>) => void;
}

export function TreeCanvas(props: TreeCanvasProps) {
  const { layout, selectedId, centreId, centreRequest, exportRef } = props;
  const { detectionsByExecId, enforcementsByExecId } = props;
  const svgRef = useRef<SVGSVGElement>(null);
  const rendererRef = useRef<TreeRenderer | null>(null);
  // The latest callbacks, so that the renderer never needs to be made again for them.
  const handlers = useRef(props);
  handlers.current = props;

  useEffect(() => {
    const renderer = new TreeRenderer(svgRef.current!, handlers);
    rendererRef.current = renderer;
    exportRef.current = () => renderer.exportSvg();
    return () => {
      renderer.destroy();
      rendererRef.current = null;
      exportRef.current = null;
    };
  }, [exportRef]);

  // A new layout is drawn at the current zoom; the first one of a process is centred on it.
  const centredOn = useRef<string | null>(null);
  const centreIdNow = useRef(centreId);
  centreIdNow.current = centreId;
  useEffect(() => {
    const id = centreIdNow.current;
    rendererRef.current!.setLayout(layout, centredOn.current === id ? undefined : id);
    centredOn.current = id;
  }, [layout]);

  const requested = useRef(centreRequest);
  useEffect(() => {
    if (requested.current === centreRequest) return;
    requested.current = centreRequest;
    rendererRef.current!.centreOn(centreId);
  }, [centreId, centreRequest]);

  useEffect(() => rendererRef.current!.setDetections(detectionsByExecId), [detectionsByExecId]);
  useEffect(
    () => rendererRef.current!.setEnforcements(enforcementsByExecId),
    [enforcementsByExecId],
  );

  // A selection moved by the keyboard may leave the screen: the view follows it.
  useEffect(() => {
    const renderer = rendererRef.current!;
    renderer.setSelected(selectedId);
    if (selectedId) renderer.reveal(selectedId);
  }, [selectedId]);

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
