'use client';

import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import type { Detection, ProcessNode } from '@proctrail/schema';
import { detectionsByExecId } from '../graph/detections';
import { useTRPCClient } from '../state/trpc';

/** detection.list's largest page. */
const PAGE = 10_000;
/** Pages read at most: 100,000 detections since the tree's oldest process. */
const MAX_PAGES = 10;
const NONE: ReadonlyMap<string, Detection[]> = new Map();

export interface TreeDetections {
  byExecId: ReadonlyMap<string, Detection[]>;
  /** Why some may be missing: the query failed, or there were more than the pages read. */
  problem?: string;
}

/**
 * The earliest start time (to the millisecond, rounded down); undefined when a process has
 * none, and then every detection is read.
 */
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
 * The detections of a tree's processes. A detection happens after its process started, so
 * they are all among the detections since the tree's oldest process: read those newest first,
 * page by page (each page after the last detection of the one before), and keep the tree's.
 * One or a few requests, where asking process by process took one query per process (5,000
 * for a large tree, seconds of the page's time).
 */
export function useTreeDetections(
  processes: ProcessNode[] | undefined,
  /** Names the tree (its query's input), for the cache. */
  treeKey: string,
): TreeDetections {
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
    queryKey: ['tree-detections', treeKey, source, since, ids.size],
    enabled: ids.size > 0,
    queryFn: async () => {
      const found: Detection[] = [];
      let before: { time: string; id: number } | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const items = await client.detection.list.query({ since, before, limit: PAGE });
        for (const d of items) if (ids.has(d.execId) && d.source === source) found.push(d);
        const last = items.at(-1);
        if (items.length < PAGE || !last) return { detections: found, complete: true };
        before = { time: last.time, id: last.id };
      }
      return { detections: found, complete: false };
    },
  });

  return useMemo(() => {
    if (query.error) return { byExecId: NONE, problem: query.error.message };
    if (!query.data) return { byExecId: NONE };
    return {
      byExecId: detectionsByExecId(query.data.detections),
      problem: query.data.complete
        ? undefined
        : `more than ${(PAGE * MAX_PAGES).toLocaleString('en-US')} since this tree began; the newest are shown`,
    };
  }, [query.data, query.error]);
}
