'use client';

import { usePathname, useSearchParams } from 'next/navigation';
import { useCallback } from 'react';

/**
 * A view's state lives in its query string so that a copied address reopens the same view.
 * `update` replaces the entry (selection and toggles would otherwise flood the history);
 * `push` adds one (a new search, another process).
 */
export function useUrlState() {
  const params = useSearchParams();
  const pathname = usePathname();

  // The browser's own history calls: Next keeps useSearchParams in step with them, and they
  // need no round trip to the server (router.replace asked it for the page again on every
  // click in the tree).
  const write = useCallback(
    (patch: Record<string, string | null | undefined>, mode: 'replace' | 'push') => {
      const next = new URLSearchParams(params.toString());
      for (const [name, value] of Object.entries(patch)) {
        if (value === null || value === undefined || value === '') next.delete(name);
        else next.set(name, value);
      }
      const query = next.toString();
      const href = query ? `${pathname}?${query}` : pathname;
      if (mode === 'push') window.history.pushState(null, '', href);
      else window.history.replaceState(null, '', href);
    },
    [params, pathname],
  );

  const update = useCallback(
    (patch: Record<string, string | null | undefined>) => write(patch, 'replace'),
    [write],
  );
  const push = useCallback(
    (patch: Record<string, string | null | undefined>) => write(patch, 'push'),
    [write],
  );
  return { params, update, push };
}

/** A comma-separated set in one parameter. exec_ids are base64 and never contain commas. */
export function setFromParam(value: string | null): Set<string> {
  return new Set((value ?? '').split(',').filter(Boolean));
}

export function paramOfSet(values: Iterable<string>): string | null {
  const list = [...values];
  return list.length ? list.join(',') : null;
}
