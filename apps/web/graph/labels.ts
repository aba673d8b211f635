import {
  endedUnseenText,
  replacedByExec,
  type ProcessFileEdge,
  type ProcessNetworkEdge,
  type ProcessNode,
} from '@proctrail/schema';

/**
 * Short texts for nodes. Every string here comes from events, so from whoever ran the process:
 * it is only ever rendered as text (React children, d3 `.text()`), never as markup.
 */

export function baseName(path: string | undefined): string {
  if (!path) return '?';
  const parts = path.split('/');
  return parts[parts.length - 1] || path;
}

export function processLabel(process: ProcessNode): string {
  if (process.relation === 'root' && process.pid === 0) return '<kernel>';
  return `${baseName(process.binary)} (${process.pid ?? '?'})`;
}

/**
 * Exited with a code or a signal, replaced by an exec, ended while the agent was down (no
 * code known), or still running (no exit seen).
 */
export function exitLabel(process: ProcessNode): string {
  if (!process.exit) return process.placeholder ? 'never seen' : 'running';
  if (process.exit.unseen) return 'ended unseen';
  if (process.exit.signal) return `killed ${process.exit.signal}`;
  if (replacedByExec(process.exit)) return 'replaced by exec';
  return `exit ${process.exit.status ?? 0}`;
}

/** The exit row of the details: the label and when, or between which times for an unseen end. */
export function exitDetail(process: ProcessNode): string {
  if (process.exit?.unseen) return endedUnseenText(process.exit);
  return `${exitLabel(process)}${process.exit?.time ? ` at ${process.exit.time}` : ''}`;
}

function endpoint(address: string | undefined, port: number | undefined): string {
  const host = address ?? '?';
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === undefined ? shown : `${shown}:${port}`;
}

/** Which way the connection went, seen from the process: out for connect, in for accept. */
export function networkDirection(edge: ProcessNetworkEdge): 'out' | 'in' | 'local' {
  if (edge.type === 'connect' || edge.type === 'sendmsg') return 'out';
  if (edge.type === 'accept' || edge.type === 'recvmsg') return 'in';
  return 'local';
}

/** A socket with a remote end: a wildcard or zero port means it only ever listened. */
function hasPeer(edge: ProcessNetworkEdge): boolean {
  return edge.daddr !== undefined && edge.dport !== undefined && edge.dport !== 0;
}

function bytesLabel(edge: ProcessNetworkEdge): string {
  if (edge.bytesSent === undefined && edge.bytesReceived === undefined) return '';
  return ` (sent ${edge.bytesSent ?? 0} B, received ${edge.bytesReceived ?? 0} B)`;
}

/**
 * The peer, with an arrow for the direction: "connect → 10.0.0.1:443". A close names the peer
 * the connection had, as that is what a responder follows; a listening socket's own address
 * is the only one it has.
 */
export function networkLabel(edge: ProcessNetworkEdge): string {
  const times = edge.count > 1 ? ` ×${edge.count}` : '';
  const direction = networkDirection(edge);
  if (direction === 'local') {
    if (!hasPeer(edge)) return `${edge.type} ${endpoint(edge.saddr, edge.sport)}${times}`;
    return `${edge.type} ${endpoint(edge.daddr, edge.dport)}${bytesLabel(edge)}${times}`;
  }
  const arrow = direction === 'out' ? '→' : '←';
  return `${edge.type} ${arrow} ${endpoint(edge.daddr, edge.dport)}${times}`;
}

export function fileLabel(edge: ProcessFileEdge): string {
  const bytes = edge.bytes === undefined ? '' : ` ${edge.bytes} B`;
  const times = edge.count > 1 ? ` ×${edge.count}` : '';
  return `${edge.operation} ${edge.path}${bytes}${times}`;
}

/** 1234 as "1,234": "+ 1,234 more". */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
