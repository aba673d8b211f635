import type { ValidProcessFilters } from '@proctrail/schema';
import type { Condition } from './event-conditions';

/** The parts of a process search whose SQL differs between the dialects. */
export interface ProcessDialect {
  /** The binary or the arguments contain `text`. */
  textMatch(column: 'binary' | 'arguments', text: string): Condition;
  /** The pod name contains `pod`. */
  podMatch(pod: string): Condition;
  /** The container is the one `container` names, by id (or its prefix) or by name. */
  containerMatch(container: string): Condition;
  /** The pod's workload is `workload`. */
  workloadMatch(workload: string): Condition;
  /**
   * One of the execution's file edges matches `path`: the path and what lies below it when it
   * starts with "/", else a substring.
   */
  pathMatch(path: string): Condition;
}

/**
 * The WHERE conditions of a process search (executions as `e`, their source as `s`); every
 * value is bound, never spliced.
 */
export function processConditions(
  filters: Omit<ValidProcessFilters, 'limit'>,
  dialect: ProcessDialect,
): Condition[] {
  const where: Condition[] = [];
  if (filters.binary) where.push(dialect.textMatch('binary', filters.binary));
  if (filters.args) where.push(dialect.textMatch('arguments', filters.args));
  if (filters.pid !== undefined) where.push({ sql: 'e.pid = ?', params: [filters.pid] });
  if (filters.execId) where.push({ sql: 'e.exec_id = ?', params: [filters.execId] });
  if (filters.node) where.push({ sql: 'e.node_name = ?', params: [filters.node] });
  if (filters.namespace) where.push({ sql: 'e.pod_namespace = ?', params: [filters.namespace] });
  if (filters.pod) where.push(dialect.podMatch(filters.pod));
  if (filters.container) where.push(dialect.containerMatch(filters.container));
  if (filters.workload) where.push(dialect.workloadMatch(filters.workload));
  if (filters.source) where.push({ sql: 's.name = ?', params: [filters.source] });
  if (filters.ip) {
    where.push({
      sql: `(e.source_id, e.exec_id) IN (
        SELECT source_id, exec_id FROM network_edges WHERE daddr = ?
        UNION SELECT source_id, exec_id FROM network_edges WHERE saddr = ?)`,
      params: [filters.ip, filters.ip],
    });
  }
  if (filters.port !== undefined) {
    where.push({
      sql: `(e.source_id, e.exec_id) IN (
        SELECT source_id, exec_id FROM network_edges WHERE dport = ?
        UNION SELECT source_id, exec_id FROM network_edges WHERE sport = ?)`,
      params: [filters.port, filters.port],
    });
  }
  if (filters.path) where.push(dialect.pathMatch(filters.path));
  // Alive at some moment of the range: started before its end, not exited before its start.
  if (filters.since) {
    where.push({ sql: `coalesce(e.exit_time, '9999') >= ?`, params: [filters.since] });
  }
  if (filters.until) {
    where.push({ sql: `coalesce(e.start_time, '') <= ?`, params: [filters.until] });
  }
  return where;
}
