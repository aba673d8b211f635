import type { ApiEvent, ProcessNode } from '@proctrail/schema';

/** Exports of the tree on screen: pure text builders; the page turns them into downloads. */

const CSV_COLUMNS = [
  'exec_id',
  'parent_exec_id',
  'pid',
  'binary',
  'arguments',
  'cwd',
  'uid',
  'start_time',
  'relation',
  'placeholder',
  'exit_status',
  'exit_signal',
  'network',
  'files',
] as const;

/**
 * RFC 4180 quoting, and a leading quote for cells a spreadsheet would run as a formula: the
 * arguments are attacker-controlled and "=cmd|..." in a cell is an old trick.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function treeToCsv(processes: ProcessNode[]): string {
  const rows = processes.map((p) =>
    [
      p.exec_id,
      p.parent_exec_id,
      p.pid,
      p.binary,
      p.arguments,
      p.cwd,
      p.uid,
      p.start_time,
      p.relation,
      p.placeholder,
      p.exit?.status,
      p.exit?.signal,
      p.network.map((n) => `${n.type} ${n.daddr ?? ''}:${n.dport ?? ''}`).join('; '),
      p.files.map((f) => `${f.operation} ${f.path}`).join('; '),
    ]
      .map(csvCell)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** Tetragon JSON lines: the stored events of the tree's processes, in store order, once each. */
export function eventsToJsonLines(events: ApiEvent[]): string {
  const seen = new Set<number>();
  const unique = events.filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
  unique.sort((a, b) => a.id - b.id);
  return unique.map((e) => JSON.stringify(e.event)).join('\n') + (unique.length ? '\n' : '');
}

/** A file name safe on every system, from an exec_id (base64 has "/" and "="). */
export function exportFileName(execId: string, extension: string): string {
  return `proctrail-tree-${execId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60)}.${extension}`;
}
