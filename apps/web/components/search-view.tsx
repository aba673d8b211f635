'use client';

import { useQueries, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import type { ProcessNode } from '@proctrail/schema';
import { exitLabel, processLabel } from '../graph/labels';
import { useTRPC } from '../state/trpc';
import { filtersFromParams, paramsOf, processHref } from '../state/url-filters';
import { FilterForm } from './filter-form';

const PAGE_SIZE = 50;

/** One match, shown as the path from the root of its tree down to it. */
function MatchPath({ match, ancestors }: { match: ProcessNode; ancestors?: ProcessNode[] }) {
  return (
    <li data-testid="search-result" data-exec-id={match.exec_id}>
      {ancestors === undefined ? (
        <span className="muted">… </span>
      ) : (
        ancestors.map((a) => (
          <span key={a.exec_id} className="path-step">
            <Link href={processHref(a.exec_id, a.source)}>{processLabel(a)}</Link>
          </span>
        ))
      )}
      <span className="path-step">
        <Link href={processHref(match.exec_id, match.source)} data-testid="search-match">
          <strong>{processLabel(match)}</strong>
        </Link>
      </span>
      <div className="mono muted">
        {match.arguments ?? ''} · {match.start_time ?? 'start unknown'} · {exitLabel(match)}
      </div>
    </li>
  );
}

export function SearchView() {
  const params = useSearchParams();
  const router = useRouter();
  const trpc = useTRPC();
  const filters = filtersFromParams(params);
  const cursor = Number(params.get('cursor') ?? 0) || 0;
  const searched = params.toString() !== '';

  const page = useQuery({
    ...trpc.process.search.queryOptions({ ...filters, limit: PAGE_SIZE, cursor }),
    enabled: searched,
  });
  const items = page.data?.items ?? [];
  const ancestries = useQueries({
    queries: items.map((item) =>
      trpc.process.ancestry.queryOptions({ execId: item.exec_id, source: item.source }),
    ),
  });

  const go = (values: Record<string, string | number | undefined>) =>
    router.push(`/search${paramsOf(values)}`);

  return (
    <section>
      <h1>Search processes</h1>
      <FilterForm
        key={params.toString()}
        initial={filters}
        onSubmit={(values) => go({ ...values, cursor: undefined })}
      />
      {!searched && <p className="muted">Fill in any filter; empty fields match everything.</p>}
      {page.isLoading && <p className="muted">Searching…</p>}
      {page.error && <p className="error">Search failed: {page.error.message}</p>}
      {page.data && (
        <>
          <p className="muted" data-testid="search-count">
            {items.length === 0
              ? 'No process matches.'
              : `Matches ${cursor + 1}–${cursor + items.length}, newest first.`}
          </p>
          <ol className="results">
            {items.map((item, i) => (
              <MatchPath
                key={item.exec_id}
                match={item}
                ancestors={ancestries[i]?.data?.ancestors}
              />
            ))}
          </ol>
          <div className="toolbar">
            {cursor > 0 && (
              <button
                type="button"
                onClick={() =>
                  go({ ...filters, cursor: Math.max(0, cursor - PAGE_SIZE) || undefined })
                }
              >
                ← Newer
              </button>
            )}
            {page.data.nextCursor !== null && (
              <button
                type="button"
                onClick={() => go({ ...filters, cursor: page.data.nextCursor! })}
              >
                Older →
              </button>
            )}
          </div>
        </>
      )}
    </section>
  );
}
