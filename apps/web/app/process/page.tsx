import { Suspense } from 'react';
import { preload } from 'react-dom';
import { ProcessView } from '../../components/process-view';
import { treeInputOf, treeQueryUrl } from '../../state/tree-query';

type SearchParams = Record<string, string | string[] | undefined>;

export default async function ProcessPage({
  searchParams,
}: {
  searchParams: Promise<SearchParams>;
}) {
  // The tree is the page's big answer: its fetch starts with the page, not after hydration.
  const params = await searchParams;
  const input = treeInputOf({
    get: (name) => {
      const value = params[name];
      return (Array.isArray(value) ? value[0] : value) ?? null;
    },
  });
  if (input) preload(treeQueryUrl(input), { as: 'fetch', crossOrigin: 'anonymous' });
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <ProcessView />
    </Suspense>
  );
}
