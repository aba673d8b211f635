import {
  endedUnseenText,
  replacedByExec,
  type ProcessFileEdge,
  type ProcessNetworkEdge,
  type ProcessNode,
} from '@proctrail/schema';
import { terminalSafe } from './terminal-text';

const RELATION_MARKS: Record<ProcessNode['relation'], string> = {
  'fork+exec': '',
  're-exec': ' [exec in the same pid]',
  'fork-only': ' [fork without exec]',
  procfs: ' [found at start-up]',
  root: ' [root]',
  unknown: '',
};

function exitText(node: ProcessNode): string {
  if (!node.exit) return '';
  if (node.exit.unseen) return ` ${endedUnseenText(node.exit)} (no exit code known)`;
  if (node.exit.signal) return ` exited: ${node.exit.signal}`;
  if (replacedByExec(node.exit)) return ' replaced by exec';
  return ` exited: ${node.exit.status ?? 0}`;
}

/** One line about a process: binary, arguments, pid, how it relates to its parent, its exit. */
export function describeProcess(node: ProcessNode): string {
  if (node.placeholder && !node.binary) {
    return `(unknown process, never seen; exec_id ${terminalSafe(node.exec_id)})`;
  }
  const args = node.arguments ? ` ${terminalSafe(node.arguments)}` : '';
  const placeholder = node.placeholder ? ' (placeholder: known only from its children)' : '';
  const pid = node.pid === undefined ? '' : ` pid ${node.pid}`;
  const when = node.start_time ? ` started ${node.start_time}` : '';
  return (
    `${terminalSafe(node.binary ?? '?')}${args} -${pid}${when}` +
    `${RELATION_MARKS[node.relation]}${exitText(node)}${placeholder}`
  );
}

function endpoint(addr: string | undefined, port: number | undefined): string {
  const safe = addr === undefined ? '?' : terminalSafe(addr);
  const host = safe.includes(':') ? `[${safe}]` : safe;
  return port === undefined ? host : `${host}:${port}`;
}

export function describeNetwork(edge: ProcessNetworkEdge): string {
  const protocol = terminalSafe(edge.protocol ?? 'tcp')
    .replace(/^IPPROTO_/, '')
    .toLowerCase();
  const count = edge.count > 1 ? ` x${edge.count}` : '';
  const bytes = [
    edge.bytesSent !== undefined ? `sent ${edge.bytesSent} B` : '',
    edge.bytesReceived !== undefined ? `received ${edge.bytesReceived} B` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return (
    `${terminalSafe(edge.type)} ${protocol} ${endpoint(edge.saddr, edge.sport)} -> ` +
    `${endpoint(edge.daddr, edge.dport)}${count}${bytes ? ` (${bytes})` : ''}`
  );
}

export function describeFile(edge: ProcessFileEdge): string {
  const count = edge.count > 1 ? ` x${edge.count}` : '';
  const bytes = edge.bytes !== undefined && edge.bytes !== null ? ` (${edge.bytes} B)` : '';
  return `${terminalSafe(edge.operation)} ${terminalSafe(edge.path)}${count}${bytes}`;
}
