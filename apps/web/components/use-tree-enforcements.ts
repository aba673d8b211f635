'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import type { ApiEvent, ProcessNode } from '@proctrail/schema';
import { enforcementOf, enforcementsByExecId, type Enforcement } from '../graph/enforcements';
import { useTRPCClient } from '../state/trpc';

/** event.list's largest page. */
const PAGE = 10_000;
/** Pages read at most: 100,000 kprobe events since the tree's oldest process. */
const MAX_PAGES = 10;
const NONE: ReadonlyMap<string, Enforcement[]> = new Map();

export interface TreeEnforcements {
  byExecId: ReadonlyMap<string, Enforcement[]>;
  /** Why some may be missing: the query failed, or there were more than the pages read. */
  problem?: string;
}

/** The earliest start time; undefined when a process has none, and then every event is read. */
function earliestStart(processes: ProcessNode[]): string | undefined {
  let earliestMs = Infinity;
  for (const process of processes) {
    const ms = process.start_time ? Date.parse(process.start_time) : NaN;
    if (Number.isNaN(ms)) return undefined;
    earliestMs = Math.min(earliestMs, ms);
  }
  return Number.isFinite(earliestMs) ? new Date(earliestMs).toISOString() : undefined;
}

/**
 * What prevention policies did to a tree's processes. An enforcement happens after its
 * process started, so all of them are among the source's process_kprobe events since the
 * tree's oldest process: read those page by page and keep the tree's enforcements.
 */
export function useTreeEnforcements(
  processes: ProcessNode[] | undefined,
  /** Names the tree (its query's input), for the cache. */
  treeKey: string,
): TreeEnforcements {
  const client = useTRPCClient();
  const { ids, source, since } = useMemo(() => {
    const seen = (processes ?? []).filter((p) => !p.placeholder);
    return {
      ids: new Set(seen.map((p) => p.exec_id)),
      source: seen[0]?.source,
      since: earliestStart(seen),
    };
  }, [processes]);

  const query = useQuery({
    queryKey: ['tree-enforcements', treeKey, source, since, ids.size],
    enabled: ids.size > 0,
    queryFn: async () => {
      const found: ApiEvent[] = [];
      let cursor: number | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await client.event.list.query({
          kinds: ['process_kprobe'],
          since,
          source,
          cursor,
          limit: PAGE,
        });
        for (const event of result.items) {
          if (event.execId && ids.has(event.execId) && enforcementOf(event)) found.push(event);
        }
        if (result.nextCursor === null) return { events: found, complete: true };
        cursor = result.nextCursor;
      }
      return { events: found, complete: false };
    },
  });

  return useMemo(() => {
    if (query.error) return { byExecId: NONE, problem: query.error.message };
    if (!query.data) return { byExecId: NONE };
    return {
      byExecId: enforcementsByExecId(query.data.events),
      problem: query.data.complete
        ? undefined
        : `more than ${(PAGE * MAX_PAGES).toLocaleString('en-US')} kprobe events since this tree began; the first are shown`,
    };
  }, [query.data, query.error]);
}
