import type Database from 'better-sqlite3';
import { containerIdOf, type ProcessNode, type ValidProcessFilters } from '@proctrail/schema';
import type { Condition } from '../shared/event-conditions';
import {
  processConditions as sharedProcessConditions,
  type ProcessDialect,
} from '../shared/process-conditions';
import type { SqliteTreeQueries } from './tree-queries';
import { EXECUTION_COLUMNS, toProcessNode, type SearchRow } from './process-rows';

/** FTS5's trigram index answers substring patterns of at least three characters. */
const TRIGRAM = 3;

/** `%text%` for LIKE, with LIKE's own wildcards in the text taken literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A container filter's id part: what the user typed, without a runtime's scheme. */
function bareContainerId(text: string): string {
  return containerIdOf({ pod: { container: { id: text } } }) ?? text;
}

/**
 * A path and everything under it: the path itself, or a GLOB for what lies below its "/"
 * (so "/etc" finds "/etc/passwd" but not "/etc-backup"), GLOB's wildcards taken literally.
 */
function pathPrefixCondition(path: string): Condition {
  const dir = path.endsWith('/') ? path : `${path}/`;
  const below = `${dir.replace(/[*?[]/g, (c) => `[${c}]`)}*`;
  return {
    sql: `(e.source_id, e.exec_id) IN (
      SELECT source_id, exec_id FROM file_edges WHERE path = ? OR path GLOB ?)`,
    params: [path, below],
  };
}

function textCondition(column: 'binary' | 'arguments', text: string): Condition {
  if (text.length >= TRIGRAM) {
    return {
      sql: `e.id IN (SELECT rowid FROM executions_text WHERE ${column} LIKE ? ESCAPE '\\')`,
      params: [likePattern(text)],
    };
  }
  return { sql: `e.${column} LIKE ? ESCAPE '\\'`, params: [likePattern(text)] };
}

/** SQLite's forms of a process search's text, pod, container, workload and path tests. */
const SQLITE_PROCESSES: ProcessDialect = {
  textMatch: textCondition,
  podMatch: (pod) => ({ sql: `e.pod_name LIKE ? ESCAPE '\\'`, params: [likePattern(pod)] }),
  containerMatch(container) {
    const id = bareContainerId(container);
    return {
      // The filter is a prefix of the stored id, or (Tetragon's docker field keeps only the
      // first 31 digits) the stored prefix of at least 12 digits is one of the filter.
      sql: `(e.container_id LIKE ? ESCAPE '\\'
        OR (length(e.container_id) >= 12 AND substr(?, 1, length(e.container_id)) = e.container_id)
        OR json_extract(e.process_json, '$.pod.container.name') = ?)`,
      params: [`${id.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, id, container],
    };
  },
  workloadMatch: (workload) => ({
    sql: `json_extract(e.process_json, '$.pod.workload') = ?`,
    params: [workload],
  }),
  pathMatch(path) {
    if (path.startsWith('/')) return pathPrefixCondition(path);
    return {
      sql: `(e.source_id, e.exec_id) IN (
        SELECT source_id, exec_id FROM file_edges WHERE path LIKE ? ESCAPE '\\')`,
      params: [likePattern(path)],
    };
  },
};

/** The WHERE conditions of a process search in SQLite; see the shared processConditions. */
export function processConditions(filters: Omit<ValidProcessFilters, 'limit'>): Condition[] {
  return sharedProcessConditions(filters, SQLITE_PROCESSES);
}

export function searchProcesses(
  db: Database.Database,
  trees: SqliteTreeQueries,
  filters: ValidProcessFilters,
  offset = 0,
): ProcessNode[] {
  const where = processConditions(filters);
  const sql = `
    SELECT ${EXECUTION_COLUMNS}, e.source_id AS sourceId, p.pid AS parentPid,
      p.binary AS parentBinary
    FROM executions e
    JOIN sources s ON s.id = e.source_id
    LEFT JOIN executions p ON p.source_id = e.source_id AND p.exec_id = e.parent_exec_id
    ${where.length ? `WHERE ${where.map((c) => c.sql).join(' AND ')}` : ''}
    ORDER BY e.start_time DESC, e.id DESC
    LIMIT ? OFFSET ?`;
  const params = [...where.flatMap((c) => c.params), filters.limit, offset];
  const rows = db.prepare(sql).all(...params) as SearchRow[];

  const bySource = new Map<number, SearchRow[]>();
  for (const row of rows) bySource.set(row.sourceId, [...(bySource.get(row.sourceId) ?? []), row]);
  const nodes = new Map<SearchRow, ProcessNode>();
  for (const [sourceId, group] of bySource) {
    const ids = group.map((r) => r.execId);
    const network = trees.networkOf(sourceId, ids);
    const files = trees.filesOf(sourceId, ids);
    for (const row of group) {
      const parent =
        row.parentPid === null && row.parentBinary === null
          ? undefined
          : { pid: row.parentPid, binary: row.parentBinary };
      nodes.set(row, toProcessNode(row, parent, network.get(row.execId), files.get(row.execId)));
    }
  }
  return rows.map((row) => nodes.get(row)!);
}
