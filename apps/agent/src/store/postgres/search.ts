import type pg from 'pg';
import {
  containerIdOf,
  type ProcessNode,
  type ValidEventFilters,
  type ValidProcessFilters,
} from '@proctrail/schema';
import { toProcessNode, type SearchRow } from '../sqlite/process-rows';
import type { StoredEvent } from '../types';
import { eventConditions, type EventDialect } from '../shared/event-conditions';
import {
  processConditions as sharedProcessConditions,
  type ProcessDialect,
} from '../shared/process-conditions';
import { likePattern, run, type Condition } from './sql';
import { EXECUTION_COLUMNS, type PostgresTreeQueries } from './tree-queries';

/**
 * A path and everything under it: the path itself, or what starts with it and a "/" (so
 * "/etc" finds "/etc/passwd" but not "/etc-backup"). starts_with has no wildcards at all.
 */
function pathPrefixCondition(path: string, column: string): Condition {
  const dir = path.endsWith('/') ? path : `${path}/`;
  return { sql: `(${column} = ? OR starts_with(${column}, ?))`, params: [path, dir] };
}

/**
 * Binaries and arguments match as substrings without regard to ASCII case, as SQLite's LIKE
 * and its trigram index do; pg_trgm's indexes answer ILIKE.
 */
function textCondition(column: 'binary' | 'arguments', text: string): Condition {
  return { sql: `e."${column}" ILIKE ? ESCAPE '\\'`, params: [likePattern(text)] };
}

/** PostgreSQL's forms of a process search's text, pod, container, workload and path tests. */
const POSTGRES_PROCESSES: ProcessDialect = {
  textMatch: textCondition,
  podMatch: (pod) => ({ sql: `e.pod_name ILIKE ? ESCAPE '\\'`, params: [likePattern(pod)] }),
  containerMatch(container) {
    const id = containerIdOf({ pod: { container: { id: container } } }) ?? '';
    return {
      // As in SQLite: a prefix of the stored id (without regard to ASCII case, as SQLite's
      // LIKE), or a stored prefix (docker) of the filter.
      sql: `(e.container_id ILIKE ? ESCAPE '\\'
        OR (length(e.container_id) >= 12 AND starts_with(?, e.container_id))
        OR (e.process_json::jsonb #>> '{pod,container,name}') = ?)`,
      params: [`${id.replace(/[\\%_]/g, (c) => `\\${c}`)}%`, id, container],
    };
  },
  workloadMatch: (workload) => ({
    sql: `(e.process_json::jsonb #>> '{pod,workload}') = ?`,
    params: [workload],
  }),
  pathMatch(path) {
    if (path.startsWith('/')) {
      const prefix = pathPrefixCondition(path, 'path');
      return {
        sql: `(e.source_id, e.exec_id) IN (SELECT source_id, exec_id FROM file_edges WHERE ${prefix.sql})`,
        params: prefix.params,
      };
    }
    return {
      sql: `(e.source_id, e.exec_id) IN (
        SELECT source_id, exec_id FROM file_edges WHERE path ILIKE ? ESCAPE '\\')`,
      params: [likePattern(path)],
    };
  },
};

/** The WHERE conditions of a process search in PostgreSQL; see the shared processConditions. */
export function processConditions(filters: Omit<ValidProcessFilters, 'limit'>): Condition[] {
  return sharedProcessConditions(filters, POSTGRES_PROCESSES);
}

export async function searchProcesses(
  pool: pg.Pool,
  trees: PostgresTreeQueries,
  filters: ValidProcessFilters,
  offset = 0,
): Promise<ProcessNode[]> {
  const where = processConditions(filters);
  // SQLite sorts a missing start time last when descending; PostgreSQL is told to.
  const sql = `
    SELECT ${EXECUTION_COLUMNS}, e.source_id AS "sourceId", p.pid AS "parentPid",
      p."binary" AS "parentBinary"
    FROM executions e
    JOIN sources s ON s.id = e.source_id
    LEFT JOIN executions p ON p.source_id = e.source_id AND p.exec_id = e.parent_exec_id
    ${where.length ? `WHERE ${where.map((c) => c.sql).join(' AND ')}` : ''}
    ORDER BY e.start_time COLLATE "C" DESC NULLS LAST, e.id DESC
    LIMIT ? OFFSET ?`;
  const params = [...where.flatMap((c) => c.params), filters.limit, offset];
  const rows = await run<SearchRow>(pool, sql, params);

  const bySource = new Map<number, SearchRow[]>();
  for (const row of rows) bySource.set(row.sourceId, [...(bySource.get(row.sourceId) ?? []), row]);
  const nodes = new Map<SearchRow, ProcessNode>();
  for (const [sourceId, group] of bySource) {
    const ids = group.map((r) => r.execId);
    const [network, files] = await Promise.all([
      trees.networkOf(sourceId, ids),
      trees.filesOf(sourceId, ids),
    ]);
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

/** PostgreSQL's forms of what an event search needs: arrays for lists, ILIKE for substrings. */
const POSTGRES_EVENTS: EventDialect = {
  processConditions,
  kindIn: (kinds) => ({ sql: 'ev.kind = ANY(?::text[])', params: [kinds] }),
  pathMatch(path) {
    if (path.startsWith('/')) {
      const prefix = pathPrefixCondition(path, 'path');
      return {
        sql: `ev.id IN (SELECT event_id FROM file_edges WHERE ${prefix.sql})`,
        params: prefix.params,
      };
    }
    return {
      sql: `ev.id IN (SELECT event_id FROM file_edges WHERE path ILIKE ? ESCAPE '\\')`,
      params: [likePattern(path)],
    };
  },
};

export async function eventsAfter(
  pool: pg.Pool,
  afterId: number,
  filters: ValidEventFilters,
  limit: number,
): Promise<StoredEvent[]> {
  const where = [
    { sql: 'ev.id > ?', params: [afterId] },
    ...eventConditions(filters, POSTGRES_EVENTS),
  ];
  const sql = `
    SELECT ev.id, ev.source_id AS "sourceId", ev.kind, ev.time, ev.exec_id AS "execId",
      ev.node_name AS "nodeName", ev.raw AS json
    FROM events ev
    JOIN sources s ON s.id = ev.source_id
    LEFT JOIN executions e ON e.source_id = ev.source_id AND e.exec_id = ev.exec_id
    WHERE ${where.map((c) => c.sql).join(' AND ')}
    ORDER BY ev.id
    LIMIT ?`;
  return run<StoredEvent>(pool, sql, [...where.flatMap((c) => c.params), limit]);
}
