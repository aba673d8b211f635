import type { FileEdge, NetworkEdge } from '@proctrail/schema';

/**
 * A network edge's own values, in the column order both stores' network_edges INSERTs list
 * after the event, source, exec_id and time: type, family, protocol, saddr, sport, daddr,
 * dport, cookie, bytes_sent, bytes_received, state.
 */
export function networkEdgeValues(edge: NetworkEdge): unknown[] {
  return [
    edge.type,
    edge.family ?? null,
    edge.protocol ?? null,
    edge.saddr ?? null,
    edge.sport ?? null,
    edge.daddr ?? null,
    edge.dport ?? null,
    edge.cookie ?? null,
    edge.bytesSent ?? null,
    edge.bytesReceived ?? null,
    edge.state ?? null,
  ];
}

/** A file edge's own values, as networkEdgeValues: operation, path, bytes, flags. */
export function fileEdgeValues(edge: FileEdge): unknown[] {
  return [edge.operation, edge.path, edge.bytes ?? null, edge.flags ?? null];
}
