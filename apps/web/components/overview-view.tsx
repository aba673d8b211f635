'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useMemo, useState, type FormEvent } from 'react';
import type { ProcessNode, StatsSummary } from '@proctrail/schema';
import { newestFirst } from '../graph/detections';
import { useTRPC } from '../state/trpc';
import { podChoices } from '../state/pod-picker';
import { paramsOf, processHref, sinceOfRange } from '../state/url-filters';
import { DetectionList } from './detection-list';
import { useUrlState } from './use-url-state';

const RANGES = ['15m', '1h', '24h', '7d', 'all'];
const DETECTIONS_SHOWN = 50;

function CountTable({ title, rows }: { title: string; rows: Array<[string, number]> }) {
  return (
    <div className="panel">
      <h3>{title}</h3>
      <table>
        <tbody>
          {rows.map(([name, count]) => (
            <tr key={name}>
              <td className="mono">{name}</td>
              <td className="num">{count.toLocaleString('en-US')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The fleet: every node with events in the range, its rate and its last event, each linked to
 * a search of that node over the same range. A node whose last event is old has gone quiet.
 */
function NodeTable(props: {
  nodes: StatsSummary['byNode'];
  since?: string;
  until?: string;
  label: string;
}) {
  return (
    <div className="panel" data-testid="overview-nodes">
      <h3>Nodes ({props.label})</h3>
      <table>
        <thead>
          <tr>
            <th>node</th>
            <th className="num">events</th>
            <th className="num">per minute</th>
            <th>last event</th>
          </tr>
        </thead>
        <tbody>
          {props.nodes.map((n) => (
            <tr key={n.node} data-node={n.node}>
              <td className="mono">
                <Link
                  href={`/search${paramsOf({ node: n.node, since: props.since, until: props.until })}`}
                >
                  {n.node || '(none)'}
                </Link>
              </td>
              <td className="num">{n.events.toLocaleString('en-US')}</td>
              <td className="num">{n.eventsPerMinute.toLocaleString('en-US')}</td>
              <td className="mono muted">{n.lastEventTime ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Kubernetes: pick a node, then one of its namespaces, then a pod, from the pods whose
 * processes started in the range; the choice links to Search filtered by it over the same
 * range. The choices live in the URL (podNode, podNamespace, pod) like every other view state.
 */
function PodPicker(props: {
  rows: StatsSummary['byPod'];
  since?: string;
  until?: string;
  label: string;
}) {
  const { params, update } = useUrlState();
  const node = params.get('podNode') ?? undefined;
  const namespace = params.get('podNamespace') ?? undefined;
  const pod = params.get('pod') ?? undefined;
  const choices = podChoices(props.rows, { node, namespace });
  const chosenPod = pod && choices.pods.some((p) => p.pod === pod) ? pod : undefined;
  const searchHref = `/search${paramsOf({
    node: node && choices.nodes.includes(node) ? node : undefined,
    namespace: namespace && choices.namespaces.includes(namespace) ? namespace : undefined,
    pod: chosenPod,
    since: props.since,
    until: props.until,
  })}`;

  return (
    <div className="panel" data-testid="overview-pods">
      <h3>Pods ({props.label})</h3>
      {props.rows.length === 0 ? (
        <p className="muted">No process of a Kubernetes pod in this range.</p>
      ) : (
        <form className="toolbar" aria-label="pod picker" onSubmit={(e) => e.preventDefault()}>
          <label>
            node{' '}
            <select
              name="podNode"
              value={node ?? ''}
              onChange={(e) =>
                update({ podNode: e.target.value || null, podNamespace: null, pod: null })
              }
            >
              <option value="">every node</option>
              {choices.nodes.map((n) => (
                <option key={n} value={n}>
                  {n || '(none)'}
                </option>
              ))}
            </select>
          </label>
          <label>
            namespace{' '}
            <select
              name="podNamespace"
              value={namespace ?? ''}
              onChange={(e) => update({ podNamespace: e.target.value || null, pod: null })}
            >
              <option value="">every namespace</option>
              {choices.namespaces.map((n) => (
                <option key={n} value={n}>
                  {n || '(none)'}
                </option>
              ))}
            </select>
          </label>
          <label>
            pod{' '}
            <select
              name="pod"
              value={chosenPod ?? ''}
              onChange={(e) => update({ pod: e.target.value || null })}
            >
              <option value="">every pod</option>
              {choices.pods.map((p) => (
                <option key={p.pod} value={p.pod}>
                  {p.pod} ({p.processes.toLocaleString('en-US')})
                </option>
              ))}
            </select>
          </label>
          <Link href={searchHref} data-testid="pod-search-link">
            Search these processes →
          </Link>
        </form>
      )}
    </div>
  );
}

/** The newest first exec of each binary in the range: what started running lately. */
function newestBinaries(processes: ProcessNode[]): ProcessNode[] {
  const seen = new Set<string>();
  return processes.filter((p) => {
    if (!p.binary || p.placeholder || seen.has(p.binary)) return false;
    seen.add(p.binary);
    return true;
  });
}

/** A datetime-local field's value (local time, no zone) as RFC 3339 UTC; undefined if empty. */
function fromLocalInput(value: string): string | undefined {
  const ms = value ? Date.parse(value) : NaN;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** RFC 3339 as a datetime-local field shows it, in the browser's time zone. */
function toLocalInput(time: string | undefined): string {
  const ms = time ? Date.parse(time) : NaN;
  if (Number.isNaN(ms)) return '';
  const local = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 19);
}

/** From and until fields for a range of one's own; both go into the URL as RFC 3339. */
function CustomRange(props: {
  since?: string;
  until?: string;
  onApply: (since?: string, until?: string) => void;
}) {
  const [from, setFrom] = useState(toLocalInput(props.since));
  const [to, setTo] = useState(toLocalInput(props.until));
  const apply = (event: FormEvent) => {
    event.preventDefault();
    props.onApply(fromLocalInput(from), fromLocalInput(to));
  };
  return (
    <form className="toolbar" onSubmit={apply} aria-label="custom time range">
      <label>
        from{' '}
        <input
          type="datetime-local"
          step={1}
          value={from}
          onChange={(e) => setFrom(e.target.value)}
        />
      </label>
      <label>
        until{' '}
        <input type="datetime-local" step={1} value={to} onChange={(e) => setTo(e.target.value)} />
      </label>
      <button type="submit">Apply range</button>
    </form>
  );
}

/**
 * The newest detections in the range, then counts by kind, binary and node, the busiest and
 * the newest binaries, all over one time range: the URL parameter `range` (15m, 1h, 24h, 7d,
 * all), or `since` and `until` of one's own. A relative range is turned into a `since` when it
 * is chosen (or the page opened), so the counts keep that start while they refresh.
 */
export function OverviewView() {
  const { params, update } = useUrlState();
  const trpc = useTRPC();
  const range = params.get('range') ?? '24h';
  const until = params.get('until') ?? undefined;
  const sinceParam = params.get('since') ?? undefined;
  const custom = sinceParam !== undefined || until !== undefined;
  // The range is turned into a time once per range change, so the query key stays put.
  const since = useMemo(
    () => (custom ? sinceParam : sinceOfRange(range, Date.now())),
    [custom, sinceParam, range],
  );

  const rangeLabel = custom
    ? `${since ?? 'the start'} to ${until ?? 'now'}`
    : range === 'all'
      ? 'all time'
      : `last ${range}`;

  const stats = useQuery({
    ...trpc.stats.summary.queryOptions({ topBinaries: 20, since, until }),
    refetchInterval: 10_000,
  });
  const recent = useQuery(trpc.process.search.queryOptions({ since, until, limit: 500 }));
  const detections = useQuery({
    ...trpc.detection.list.queryOptions({ since, until, limit: DETECTIONS_SHOWN }),
    refetchInterval: 10_000,
  });

  return (
    <section>
      <h1>Overview</h1>
      <div className="toolbar" role="group" aria-label="time range">
        {RANGES.map((r) => (
          <button
            key={r}
            type="button"
            aria-pressed={range === r && !custom}
            onClick={() => update({ range: r, since: null, until: null })}
          >
            {r}
          </button>
        ))}
        <Link href={`/search${paramsOf({ since, until })}`}>Search this range →</Link>
      </div>
      <CustomRange
        key={`${since}-${until}`}
        since={custom ? since : undefined}
        until={until}
        onApply={(from, to) => update({ since: from ?? null, until: to ?? null })}
      />
      <div className="panel" data-testid="overview-detections">
        <h3>
          Detections ({rangeLabel}, newest {DETECTIONS_SHOWN})
        </h3>
        {detections.isLoading && <p className="muted">Loading…</p>}
        {detections.error && <p className="error">Detections: {detections.error.message}</p>}
        {detections.data?.length === 0 && <p className="muted">None in this range.</p>}
        {detections.data && detections.data.length > 0 && (
          <DetectionList detections={newestFirst(detections.data)} linkToProcess />
        )}
      </div>
      {stats.error && <p className="error">Statistics: {stats.error.message}</p>}
      {stats.data && (
        <>
          {stats.data.lost && stats.data.lost.total > 0 && (
            <div className="banner" role="alert">
              The sensor lost {stats.data.lost.total.toLocaleString('en-US')} events.
            </div>
          )}
          <p data-testid="overview-totals" data-events={stats.data.events}>
            {stats.data.events.toLocaleString('en-US')} events ·{' '}
            {stats.data.executions.toLocaleString('en-US')} executions ·{' '}
            {stats.data.placeholders.toLocaleString('en-US')} placeholders ·{' '}
            {stats.data.unattributed.toLocaleString('en-US')} unattributed · last event{' '}
            {stats.data.lastEventTime ?? 'none'} <span className="muted">({rangeLabel})</span>
          </p>
          <div className="stats-grid">
            <CountTable
              title={`Events by kind (${rangeLabel})`}
              rows={Object.entries(stats.data.byKind)}
            />
            <CountTable
              title={`Busiest binaries (${rangeLabel})`}
              rows={stats.data.byBinary.map((b) => [b.binary, b.events])}
            />
            <NodeTable nodes={stats.data.byNode} since={since} until={until} label={rangeLabel} />
            <PodPicker rows={stats.data.byPod} since={since} until={until} label={rangeLabel} />
            <div className="panel">
              <h3>Newest binaries ({rangeLabel})</h3>
              {recent.isLoading && <p className="muted">Loading…</p>}
              <table>
                <tbody>
                  {newestBinaries(recent.data?.items ?? [])
                    .slice(0, 20)
                    .map((p) => (
                      <tr key={p.exec_id}>
                        <td className="mono">
                          <Link href={processHref(p.exec_id, p.source)}>{p.binary}</Link>
                        </td>
                        <td className="mono muted">{p.start_time ?? ''}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
