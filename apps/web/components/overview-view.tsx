'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useMemo } from 'react';
import type { ProcessNode } from '@proctrail/schema';
import { newestFirst } from '../graph/detections';
import { useTRPC } from '../state/trpc';
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

/** The newest first exec of each binary in the range: what started running lately. */
function newestBinaries(processes: ProcessNode[]): ProcessNode[] {
  const seen = new Set<string>();
  return processes.filter((p) => {
    if (!p.binary || p.placeholder || seen.has(p.binary)) return false;
    seen.add(p.binary);
    return true;
  });
}

/**
 * The newest detections in the range, then counts by kind, binary and node, the busiest and
 * the newest binaries. The range (URL
 * parameter `range`, or `since`/`until`) selects the processes of "newest binaries".
 * Limitation: stats.summary counts the whole database; it takes no time range yet.
 */
export function OverviewView() {
  const { params, update } = useUrlState();
  const trpc = useTRPC();
  const range = params.get('range') ?? '24h';
  const until = params.get('until') ?? undefined;
  // The range is turned into a time once per range change, so the query key stays put.
  const since = useMemo(
    () => params.get('since') ?? sinceOfRange(range, Date.now()),
    [params, range],
  );

  const stats = useQuery({
    ...trpc.stats.summary.queryOptions({ topBinaries: 20 }),
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
            aria-pressed={range === r && !params.get('since')}
            onClick={() => update({ range: r, since: null, until: null })}
          >
            {r}
          </button>
        ))}
        <Link href={`/search${paramsOf({ since, until })}`}>Search this range →</Link>
      </div>
      <div className="panel" data-testid="overview-detections">
        <h3>
          Detections ({range === 'all' ? 'all time' : `last ${range}`}, newest {DETECTIONS_SHOWN})
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
          <p data-testid="overview-totals">
            {stats.data.events.toLocaleString('en-US')} events ·{' '}
            {stats.data.executions.toLocaleString('en-US')} executions ·{' '}
            {stats.data.placeholders.toLocaleString('en-US')} placeholders ·{' '}
            {stats.data.unattributed.toLocaleString('en-US')} unattributed · last event{' '}
            {stats.data.lastEventTime ?? 'none'}
          </p>
          <div className="stats-grid">
            <CountTable title="Events by kind" rows={Object.entries(stats.data.byKind)} />
            <CountTable
              title="Busiest binaries (all time)"
              rows={stats.data.byBinary.map((b) => [b.binary, b.events])}
            />
            <CountTable
              title="Events by node"
              rows={stats.data.byNode.map((n) => [n.node, n.events])}
            />
            <div className="panel">
              <h3>Newest binaries ({range === 'all' ? 'all time' : `last ${range}`})</h3>
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
          <p className="muted">
            Limitation: the counts cover the whole database (the API&apos;s summary takes no time
            range yet); the range applies to the newest binaries and to Search.
          </p>
        </>
      )}
    </section>
  );
}
