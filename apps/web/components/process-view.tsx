'use client';

import { useQuery } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useCallback, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { ApiEvent, Detection } from '@proctrail/schema';
import { eventsToJsonLines, exportFileName, treeToCsv } from '../graph/export';
import { layoutGraph } from '../graph/layout';
import { moveSelection, type Move } from '../graph/navigation';
import {
  buildProcessGraph,
  countGraph,
  DEFAULT_CHILD_CAP,
  parentsOf,
  processesOf,
} from '../graph/process-graph';
import { useTRPC, useTRPCClient } from '../state/trpc';
import { DEFAULT_MAX_DESCENDANTS, fetchTree, treeInputOf } from '../state/tree-query';
import { processHref } from '../state/url-filters';
import { download } from './download';
import { EventTimeline } from './event-timeline';
import { ProcessLoads } from './inventory-view';
import { TreeLegend } from './legend';
import { NodeDetails } from './process-details';
import { TreeCanvas } from './tree-canvas';
import { useTreeDetections } from './use-tree-detections';
import { useTreeEnforcements } from './use-tree-enforcements';
import { paramOfSet, setFromParam, useUrlState } from './use-url-state';

const NO_DETECTIONS: Detection[] = [];
const MOVES = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown']);

/**
 * One process: its tree (ancestry and descendants, with network and file leaves), the details
 * of the selected node, its events and raw JSON. URL parameters: execId, source, leaves=0
 * (hide network and file leaves), collapsed and expanded (exec_id lists), sel (selected node),
 * max (descendants to load).
 */
export function ProcessView() {
  const { params, update } = useUrlState();
  const router = useRouter();
  const trpc = useTRPC();
  const client = useTRPCClient();
  const exportSvgRef = useRef<(() => string) | null>(null);
  const [centreRequest, setCentreRequest] = useState(0);
  const [exporting, setExporting] = useState<string | null>(null);

  const execId = params.get('execId') ?? '';
  const showLeaves = params.get('leaves') !== '0';
  const collapsedParam = params.get('collapsed');
  const expandedParam = params.get('expanded');
  const treeInput = treeInputOf(params);
  const maxDescendants = treeInput?.maxDescendants ?? DEFAULT_MAX_DESCENDANTS;
  const selectedId = params.get('sel');

  // Fetched as the page's head preloaded it (see tree-query.ts), cached under tRPC's key.
  const tree = useQuery({
    queryKey: trpc.process.tree.queryKey(treeInput ?? { execId }),
    queryFn: ({ signal }) => fetchTree(treeInput!, signal),
    enabled: treeInput !== null,
  });
  const processes = useMemo(() => (tree.data ? processesOf(tree.data) : undefined), [tree.data]);
  const detections = useTreeDetections(processes, JSON.stringify(treeInput));
  const enforcements = useTreeEnforcements(processes, JSON.stringify(treeInput));

  const graph = useMemo(() => {
    if (!tree.data) return null;
    return buildProcessGraph(tree.data, {
      showLeaves,
      collapsed: setFromParam(collapsedParam),
      expanded: setFromParam(expandedParam),
      childCap: DEFAULT_CHILD_CAP,
    });
  }, [tree.data, showLeaves, collapsedParam, expandedParam]);
  const layout = useMemo(() => (graph ? layoutGraph(graph) : null), [graph]);

  const select = useCallback((id: string | null) => update({ sel: id }), [update]);

  const toggle = useCallback(
    (id: string) => {
      const node = layout?.byId.get(id)?.node;
      if (!node) return;
      if (node.kind === 'more') {
        if (node.hidden > 0) {
          const expanded = setFromParam(expandedParam).add(node.moreOf!);
          update({ expanded: paramOfSet(expanded) });
        } else if (node.notLoaded > 0) {
          update({ max: String(Math.min(100_000, maxDescendants * 10)) });
        }
        return;
      }
      if (node.kind !== 'process') return;
      const collapsed = setFromParam(collapsedParam);
      if (collapsed.has(id)) collapsed.delete(id);
      else if (node.children.length > 0) collapsed.add(id);
      update({ collapsed: paramOfSet(collapsed) });
    },
    [layout, collapsedParam, expandedParam, maxDescendants, update],
  );

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (!layout) return;
    // The address bar, not selectedId: React learns of a selection a render after the history
    // call made it, and keys pressed in between must move on from where the last one went.
    const current = new URLSearchParams(window.location.search).get('sel') ?? execId;
    if (MOVES.has(event.key)) {
      event.preventDefault();
      select(moveSelection(layout, current, event.key as Move));
    } else if (event.key === 'Enter') {
      const node = layout.byId.get(current)?.node;
      if (node?.kind === 'process' && node.id !== execId) {
        router.push(processHref(node.id, node.process?.source));
      } else if (node) {
        toggle(node.id);
      }
    } else if (event.key === 'Escape') {
      select(null);
    } else if (event.key === ' ') {
      event.preventDefault();
      toggle(current);
    }
  };

  const exportJson = async () => {
    if (!processes) return;
    setExporting('Collecting events…');
    try {
      const seen = processes.filter((p) => !p.placeholder);
      const events: ApiEvent[] = [];
      for (const process of seen) {
        let cursor: number | undefined = undefined;
        do {
          const page = await client.event.list.query({
            execId: process.exec_id,
            source: process.source,
            cursor,
            limit: 5_000,
          });
          events.push(...page.items);
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
      }
      download(eventsToJsonLines(events), exportFileName(execId, 'jsonl'), 'application/x-ndjson');
    } finally {
      setExporting(null);
    }
  };

  if (!execId) return <p>No process given: open one from Search.</p>;
  if (tree.isLoading) return <p className="muted">Loading the tree…</p>;
  if (tree.error) return <p className="error">Tree: {tree.error.message}</p>;
  if (!tree.data || !graph || !layout) return null;

  const target = tree.data.process;
  const selected = layout.byId.get(selectedId ?? '')?.node;
  const timelineProcess = selected?.process ?? target;

  return (
    <section>
      <h1 data-testid="process-title">
        {target.binary ?? '?'} <span className="muted mono">pid {target.pid}</span>
      </h1>
      <div className="toolbar">
        <button
          type="button"
          aria-pressed={showLeaves}
          onClick={() => update({ leaves: showLeaves ? '0' : null })}
          data-testid="toggle-leaves"
        >
          {showLeaves ? 'Hide network and files' : 'Show network and files'}
        </button>
        <button
          type="button"
          onClick={() => update({ collapsed: paramOfSet(parentsOf(tree.data)) })}
        >
          Collapse all
        </button>
        <button type="button" onClick={() => update({ collapsed: null, expanded: null })}>
          Expand all
        </button>
        <button type="button" onClick={() => setCentreRequest((n) => n + 1)}>
          Centre on target
        </button>
        <button type="button" onClick={exportJson} disabled={exporting !== null}>
          Export JSON (Tetragon)
        </button>
        <button
          type="button"
          onClick={() =>
            processes && download(treeToCsv(processes), exportFileName(execId, 'csv'), 'text/csv')
          }
        >
          Export CSV
        </button>
        <button
          type="button"
          onClick={() =>
            exportSvgRef.current &&
            download(exportSvgRef.current(), exportFileName(execId, 'svg'), 'image/svg+xml')
          }
        >
          Export SVG
        </button>
        <span className="muted" data-testid="tree-summary">
          {countGraph(graph).toLocaleString('en-US')} nodes in the tree
          {tree.data.omittedDescendants > 0 &&
            ` · ${tree.data.omittedDescendants.toLocaleString('en-US')} descendants beyond the cap of ${maxDescendants.toLocaleString('en-US')}`}
          {tree.data.ancestryTruncated && ' · ancestry truncated'}
          {exporting && ` · ${exporting}`}
          {detections.problem && ` · detections: ${detections.problem}`}
          {enforcements.problem && ` · enforcements: ${enforcements.problem}`}
        </span>
      </div>
      <div className={selected ? 'process-layout' : undefined}>
        <div>
          <TreeCanvas
            layout={layout}
            selectedId={selectedId}
            centreId={execId}
            centreRequest={centreRequest}
            exportRef={exportSvgRef}
            detectionsByExecId={detections.byExecId}
            enforcementsByExecId={enforcements.byExecId}
            onSelect={select}
            onToggle={toggle}
            onKey={onKey}
          />
          <TreeLegend />
          <p className="muted">
            Click selects, double-click folds or unfolds; arrows move, Enter opens, Space folds,
            Escape closes the details; drag to pan, wheel to zoom.
          </p>
        </div>
        {selected && (
          <NodeDetails
            node={selected}
            detections={
              selected.kind === 'process'
                ? (detections.byExecId.get(selected.id) ?? NO_DETECTIONS)
                : NO_DETECTIONS
            }
            enforcements={enforcements.byExecId.get(selected.id)}
            onClose={() => select(null)}
          />
        )}
      </div>
      <ProcessLoads execId={timelineProcess.exec_id} />
      <EventTimeline execId={timelineProcess.exec_id} source={timelineProcess.source} />
      <details>
        <summary>Raw JSON of {target.exec_id}</summary>
        <pre className="raw mono">{JSON.stringify(target, null, 2)}</pre>
      </details>
    </section>
  );
}
