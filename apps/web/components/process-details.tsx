'use client';

import Link from 'next/link';
import type { Detection, ProcessNode } from '@proctrail/schema';
import { processFlags } from '@proctrail/schema';
import type { GraphNode } from '../graph/process-graph';
import { exitDetail, fileLabel, networkLabel } from '../graph/labels';
import { processHref } from '../state/url-filters';
import type { Enforcement } from '../graph/enforcements';
import { DetectionList } from './detection-list';

function Row({ name, value }: { name: string; value: string | number | undefined | null }) {
  if (value === undefined || value === null || value === '') return null;
  return (
    <>
      <dt>{name}</dt>
      <dd className="mono">{String(value)}</dd>
    </>
  );
}

function ProcessFields({ process }: { process: ProcessNode }) {
  const pod = process.pod;
  const user = process.user?.name ? `${process.user.name} (${process.uid})` : process.uid;
  return (
    <dl>
      <Row name="binary" value={process.binary} />
      <Row name="arguments" value={process.arguments} />
      <Row name="cwd" value={process.cwd} />
      <Row name="user" value={user} />
      <Row name="pid" value={process.pid} />
      <Row name="exec_id" value={process.exec_id} />
      <dt>parent</dt>
      <dd className="mono">
        {process.parent_exec_id ? (
          <Link href={processHref(process.parent_exec_id, process.source)}>
            {process.parent_exec_id}
          </Link>
        ) : (
          'none'
        )}
      </dd>
      <Row name="relation" value={process.relation} />
      <Row name="start" value={process.start_time} />
      <Row name="exit" value={exitDetail(process)} />
      <Row name="node" value={process.node_name} />
      <Row name="source" value={process.source} />
      <Row name="pod" value={pod?.name ? `${pod.namespace ?? ''}/${pod.name}` : undefined} />
      <Row name="container" value={pod?.container?.name ?? process.docker} />
      <Row name="image" value={pod?.container?.image?.name} />
      <Row name="capabilities" value={process.cap?.effective?.join(' ')} />
      <Row name="flags" value={processFlags(process).join(' ')} />
    </dl>
  );
}

/** What is known about the selected node, with its raw JSON. Every value is rendered as text. */
export function NodeDetails({
  node,
  detections,
  enforcements = [],
  onClose,
}: {
  node: GraphNode;
  /** The process's detections, newest first; empty for other nodes. */
  detections: readonly Detection[];
  /** What prevention policies did to the process, in the order it happened. */
  enforcements?: readonly Enforcement[];
  onClose: () => void;
}) {
  const raw = node.process ?? node.network ?? node.file ?? { more: node.label };
  return (
    <aside className="panel details" data-testid="details" aria-label="details">
      <div className="toolbar">
        <strong>{node.kind === 'process' ? 'Process' : node.kind}</strong>
        <button type="button" onClick={onClose} aria-label="Close details (Escape)">
          ✕
        </button>
      </div>
      {enforcements.length > 0 && (
        <section data-testid="node-enforcements" aria-label="enforcements">
          <h3>Blocked by policies ({enforcements.length})</h3>
          <ul className="enforcement-list">
            {enforcements.map((e) => (
              <li key={e.id} data-testid="enforcement-row" data-outcome={e.outcome}>
                <span className={`enforcement-outcome ${e.outcome}`}>{e.outcome}</span>{' '}
                <strong>{e.policy}</strong> <span className="muted mono">{e.hook}</span>
                <div>{e.message}</div>
              </li>
            ))}
          </ul>
        </section>
      )}
      {detections.length > 0 && (
        <section data-testid="node-detections" aria-label="detections">
          <h3>Detections ({detections.length})</h3>
          <DetectionList detections={detections} linkToProcess={false} />
        </section>
      )}
      {node.process && <ProcessFields process={node.process} />}
      {node.network && <p className="mono">{networkLabel(node.network)}</p>}
      {node.file && <p className="mono">{fileLabel(node.file)}</p>}
      {node.kind === 'more' && (
        <p>
          {node.label}: {node.hidden > 0 && `${node.hidden} drawn when expanded`}
          {node.notLoaded > 0 && ` ${node.notLoaded} beyond the query's cap`}
        </p>
      )}
      <h3>Raw JSON</h3>
      <pre className="raw mono" data-testid="raw-json">
        {JSON.stringify(raw, null, 2)}
      </pre>
    </aside>
  );
}
