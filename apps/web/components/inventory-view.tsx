'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import type { InventoryFile, InventoryLoad } from '@proctrail/schema';
import { baseName } from '../graph/labels';
import { useTRPC } from '../state/trpc';
import { paramsOf, processHref } from '../state/url-filters';

/** A hash short enough for a table cell; the whole one is in the title. */
function ShortHash({ sha256, error }: { sha256?: string; error?: string }) {
  if (!sha256) return <span className="muted">{error ? `no hash: ${error}` : 'no hash'}</span>;
  return (
    <span className="mono" title={sha256}>
      {sha256.slice(0, 16)}…
    </span>
  );
}

function Advisories({ advisories }: { advisories: readonly string[] }) {
  if (advisories.length === 0) return null;
  return (
    <span className="severity-tag vulnerable" data-testid="vulnerable">
      vulnerable: {advisories.join(', ')}
    </span>
  );
}

/** Per file: who loaded it, on which hosts, how many still run, when it was last loaded. */
function FilesTable({ files }: { files: readonly InventoryFile[] }) {
  return (
    <table className="inventory" data-testid="inventory-files">
      <thead>
        <tr>
          <th>File</th>
          <th>Name and version</th>
          <th>SHA-256</th>
          <th>Hosts</th>
          <th>Processes (running)</th>
          <th>Last loaded</th>
        </tr>
      </thead>
      <tbody>
        {files.map((f) => (
          <tr
            key={`${f.role}:${f.path}:${f.sha256 ?? ''}`}
            data-testid="inventory-file"
            data-path={f.path}
            className={f.advisories.length ? 'vulnerable' : undefined}
          >
            <td className="mono">
              {f.role === 'executable' ? 'exe ' : 'lib '}
              {f.path} <Advisories advisories={f.advisories} />
            </td>
            <td>{[f.name, f.version].filter(Boolean).join(' ')}</td>
            <td>
              <ShortHash sha256={f.sha256} />
            </td>
            <td>{f.nodes.join(', ')}</td>
            <td>
              {f.processes} ({f.runningProcesses})
            </td>
            <td className="mono">{f.lastLoadedAt ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Loads, one per process and file, newest first. */
export function LoadsTable({
  loads,
  showProcess,
}: {
  loads: readonly InventoryLoad[];
  showProcess: boolean;
}) {
  return (
    <table className="inventory" data-testid="inventory-loads">
      <thead>
        <tr>
          <th>Time</th>
          {showProcess && <th>Process</th>}
          <th>File</th>
          <th>Name and version</th>
          <th>SHA-256</th>
          <th>Build-id</th>
        </tr>
      </thead>
      <tbody>
        {loads.map((l) => (
          <tr
            key={`${l.execId}:${l.role}:${l.path}`}
            data-testid="inventory-load"
            data-path={l.path}
            className={l.advisories.length ? 'vulnerable' : undefined}
          >
            <td className="mono">{l.time ?? ''}</td>
            {showProcess && (
              <td>
                <Link href={processHref(l.execId)}>
                  {baseName(l.binary)} ({l.pid ?? '?'})
                </Link>{' '}
                <span className="muted">
                  {l.nodeName ?? ''} {l.running ? 'running' : 'exited'}
                </span>
              </td>
            )}
            <td className="mono">
              {l.role === 'executable' ? 'ran ' : 'loaded '}
              {l.path} <Advisories advisories={l.advisories} />
            </td>
            <td>{[l.name, l.version].filter(Boolean).join(' ')}</td>
            <td>
              <ShortHash sha256={l.sha256} error={l.error} />
            </td>
            <td className="mono">{l.buildId ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const FIELDS = ['library', 'binary', 'sha256', 'node'] as const;

export function InventoryView() {
  const params = useSearchParams();
  const router = useRouter();
  const trpc = useTRPC();
  const [draft, setDraft] = useState(() =>
    Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? ''])),
  );
  const running = params.get('running') === '1';
  const vulnerable = params.get('vulnerable') === '1';
  const input = {
    ...Object.fromEntries(FIELDS.flatMap((f) => (params.get(f) ? [[f, params.get(f)!]] : []))),
    running: running || undefined,
    vulnerable: vulnerable || undefined,
    limit: 500,
  };
  const found = useQuery(trpc.inventory.search.queryOptions(input));

  const go = (values: Record<string, string | undefined>) =>
    router.push(`/inventory${paramsOf(values)}`);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    go({
      ...Object.fromEntries(FIELDS.map((f) => [f, draft[f]?.trim() || undefined])),
      running: running ? '1' : undefined,
      vulnerable: vulnerable ? '1' : undefined,
    });
  };
  const toggle = (name: 'running' | 'vulnerable', on: boolean) =>
    go({
      ...Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? undefined])),
      running: (name === 'running' ? on : running) ? '1' : undefined,
      vulnerable: (name === 'vulnerable' ? on : vulnerable) ? '1' : undefined,
    });

  return (
    <section>
      <h1>Inventory</h1>
      <p className="muted">
        Binaries run and libraries loaded, by host, with their hashes and versions; a file a
        vulnerable-version rule matches is flagged. &ldquo;Running&rdquo; counts processes that have
        not exited; &ldquo;last loaded&rdquo; says when any process last loaded it.
      </p>
      <form onSubmit={submit} className="filter-form" data-testid="inventory-form">
        {FIELDS.map((field) => (
          <label key={field}>
            {field}{' '}
            <input
              name={field}
              value={draft[field] ?? ''}
              placeholder={
                field === 'sha256'
                  ? '64 hex digits'
                  : field === 'node'
                    ? 'node name'
                    : 'glob, e.g. log4j-core*'
              }
              onChange={(event) => setDraft({ ...draft, [field]: event.target.value })}
            />
          </label>
        ))}
        <label>
          <input
            type="checkbox"
            checked={running}
            onChange={(event) => toggle('running', event.target.checked)}
          />{' '}
          running only
        </label>
        <label>
          <input
            type="checkbox"
            checked={vulnerable}
            onChange={(event) => toggle('vulnerable', event.target.checked)}
          />{' '}
          vulnerable only
        </label>
        <button type="submit">Search</button>
      </form>
      {found.error && <p className="error">{found.error.message}</p>}
      {found.data && (
        <>
          <h2>Files ({found.data.files.length})</h2>
          <FilesTable files={found.data.files} />
          <h2>Loads ({found.data.loads.length})</h2>
          <LoadsTable loads={found.data.loads} showProcess />
        </>
      )}
    </section>
  );
}

/** The process page's part: what this execution ran and loaded. */
export function ProcessLoads({ execId }: { execId: string }) {
  const trpc = useTRPC();
  const found = useQuery(trpc.inventory.search.queryOptions({ execId, limit: 1000 }));
  if (!found.data || found.data.loads.length === 0) return null;
  return (
    <details
      open={found.data.loads.some((l) => l.advisories.length > 0)}
      data-testid="process-loads"
    >
      <summary>
        Binary and libraries loaded ({found.data.loads.length})
        {found.data.loads.some((l) => l.advisories.length > 0) && ' · vulnerable'}
      </summary>
      <LoadsTable loads={found.data.loads} showProcess={false} />
    </details>
  );
}
