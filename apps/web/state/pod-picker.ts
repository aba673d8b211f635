import type { StatsSummary } from '@proctrail/schema';

type PodRow = StatsSummary['byPod'][number];

/** What the node -> namespace -> pod picker offers, given what is chosen so far. */
export interface PodChoices {
  nodes: string[];
  /** The namespaces of the chosen node (of every node when none is chosen). */
  namespaces: string[];
  /** The pods of the chosen node and namespace, with their process counts. */
  pods: Array<{ pod: string; processes: number }>;
}

/**
 * The picker's options from stats.summary's pod list. A choice that the list no longer holds
 * (the range changed) narrows nothing, so the picker never shows an empty level by mistake.
 */
export function podChoices(
  rows: readonly PodRow[],
  chosen: { node?: string; namespace?: string },
): PodChoices {
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  const nodes = sorted(rows.map((r) => r.node));
  const node = chosen.node && nodes.includes(chosen.node) ? chosen.node : undefined;
  const onNode = rows.filter((r) => node === undefined || r.node === node);
  const namespaces = sorted(onNode.map((r) => r.namespace));
  const namespace =
    chosen.namespace && namespaces.includes(chosen.namespace) ? chosen.namespace : undefined;
  const counts = new Map<string, number>();
  for (const row of onNode) {
    if (namespace !== undefined && row.namespace !== namespace) continue;
    counts.set(row.pod, (counts.get(row.pod) ?? 0) + row.processes);
  }
  const pods = [...counts]
    .map(([pod, processes]) => ({ pod, processes }))
    .sort((a, b) => a.pod.localeCompare(b.pod));
  return { nodes, namespaces, pods };
}
