import type Database from 'better-sqlite3';
import type { ProcessFileEdge, ProcessNetworkEdge, ProcessTree } from '@proctrail/schema';
import type { SourceInfo, TreeOptions } from '../types';
import {
  assembleTree,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_DESCENDANTS,
  descendantRow,
  groupByExec,
  MAX_ANCESTRY,
  treeExecIds,
  type AncestryRow,
  type DescendantColumns,
  DescendantWalk,
  type Descendants,
} from '../shared/tree-assembly';
import { EXECUTION_COLUMNS } from './process-rows';

/** Lists of exec_ids are bound as one JSON array, so each query is one prepared statement. */
const IDS = `(SELECT value FROM json_each(?))`;

const CHILD_COUNTS_SQL = `
SELECT parent_exec_id AS id, count(*) AS n FROM executions
WHERE source_id = ? AND parent_exec_id IN ${IDS} AND exec_id != parent_exec_id
GROUP BY parent_exec_id`;

const NETWORK_SQL = `
SELECT exec_id AS execId, type, family, protocol, saddr, sport, daddr, dport,
  min(cookie) AS cookie, count(*) AS count, sum(bytes_sent) AS bytesSent,
  sum(bytes_received) AS bytesReceived, min(time) AS firstTime
FROM network_edges
WHERE source_id = ? AND exec_id IN ${IDS}
GROUP BY exec_id, type, family, protocol, saddr, sport, daddr, dport
ORDER BY firstTime`;

const FILES_SQL = `
SELECT exec_id AS execId, operation, path, count(*) AS count, sum(bytes) AS bytes,
  min(time) AS firstTime
FROM file_edges
WHERE source_id = ? AND exec_id IN ${IDS}
GROUP BY exec_id, operation, path
ORDER BY firstTime`;

/**
 * Ancestry walks up parent_exec_id from the process itself; the synthetic `<kernel>` process,
 * whose parent is itself, ends the walk instead of looping. A parent_exec_id without a row
 * comes back with null columns and becomes an unknown placeholder.
 */
const ANCESTRY_SQL = `
WITH RECURSIVE chain(exec_id, depth) AS (
  SELECT ?, 0
  UNION ALL
  SELECT e.parent_exec_id, chain.depth + 1
  FROM chain JOIN executions e ON e.source_id = ? AND e.exec_id = chain.exec_id
  WHERE e.parent_exec_id IS NOT NULL AND e.parent_exec_id != e.exec_id AND chain.depth < ${MAX_ANCESTRY}
)
SELECT chain.exec_id AS chainExecId, chain.depth AS depth, ${EXECUTION_COLUMNS}
FROM chain
LEFT JOIN executions e ON e.source_id = ? AND e.exec_id = chain.exec_id
LEFT JOIN sources s ON s.id = e.source_id
ORDER BY chain.depth`;

/**
 * The children of one level of the tree, in the order of that level's exec_ids (json_each as
 * the outer loop), `LIMIT` at most: walking level by level reads each row once, where a
 * recursive walk kept a queue and read every row a second time for its columns. Rows come
 * back as arrays in the order of descendantRow's reads (all of one source, whose name the
 * caller knows): building a thousand objects column by column in the driver cost more than
 * the walk itself.
 */
const CHILDREN_SQL = `
SELECT e.exec_id, e.parent_exec_id, e.node_name, e.pid, e.binary, e.flags,
  e.seen, e.process_json, e.exit_time, e.exit_status, e.exit_signal, e.ended_unseen_after
FROM json_each(?) AS level
CROSS JOIN executions e ON e.source_id = ? AND e.parent_exec_id = level.value
WHERE e.exec_id != e.parent_exec_id
LIMIT ?`;

export class SqliteTreeQueries {
  private readonly ancestry: Database.Statement;
  private readonly children: Database.Statement;
  private readonly childCountsQuery: Database.Statement;
  private readonly networkQuery: Database.Statement;
  private readonly filesQuery: Database.Statement;

  constructor(db: Database.Database) {
    this.ancestry = db.prepare(ANCESTRY_SQL);
    this.children = db.prepare(CHILDREN_SQL).raw(true);
    this.childCountsQuery = db.prepare(CHILD_COUNTS_SQL);
    this.networkQuery = db.prepare(NETWORK_SQL);
    this.filesQuery = db.prepare(FILES_SQL);
  }

  tree(source: SourceInfo, execId: string, options: TreeOptions = {}): ProcessTree | undefined {
    const chain = this.ancestry.all(execId, source.id, source.id) as AncestryRow[];
    if (chain.length === 0 || chain[0]!.execId === null) return undefined;

    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    const maxDescendants = options.maxDescendants ?? DEFAULT_MAX_DESCENDANTS;
    const {
      kept,
      childCounts: countedChildren,
      uncounted,
    } = this.descendantsOf(source, execId, maxDepth, maxDescendants);

    const ids = treeExecIds(chain, kept);
    const network = this.networkOf(source.id, ids);
    const files = this.filesOf(source.id, ids);
    const childCounts = new Map([...countedChildren, ...this.childCounts(source, uncounted)]);
    return assembleTree({ sourceName: source.name, chain, kept, childCounts, network, files });
  }

  /** Descendants level by level, as DescendantWalk asks for them. */
  private descendantsOf(
    source: SourceInfo,
    execId: string,
    maxDepth: number,
    maxDescendants: number,
  ): Descendants {
    const walk = new DescendantWalk(execId, maxDepth, maxDescendants);
    for (let step = walk.next(); step; step = walk.next()) {
      const { depth } = step;
      const rows = this.children.all(JSON.stringify(step.level), source.id, step.limit);
      walk.take((rows as DescendantColumns[]).map((c) => descendantRow(source.name, depth, c)));
    }
    return walk.result();
  }

  private childCounts(source: SourceInfo, ids: string[]): Map<string, number> {
    if (ids.length === 0) return new Map();
    const rows = this.childCountsQuery.all(source.id, JSON.stringify(ids)) as Array<{
      id: string;
      n: number;
    }>;
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  /** Network activity of each process, grouped by operation and 4-tuple. */
  networkOf(sourceId: number, ids: string[]): Map<string, ProcessNetworkEdge[]> {
    const rows = this.networkQuery.all(sourceId, JSON.stringify(ids)) as Array<
      ProcessNetworkEdge & { execId: string }
    >;
    return groupByExec(rows);
  }

  /** File activity of each process, grouped by operation and path. */
  filesOf(sourceId: number, ids: string[]): Map<string, ProcessFileEdge[]> {
    const rows = this.filesQuery.all(sourceId, JSON.stringify(ids)) as Array<
      ProcessFileEdge & { execId: string }
    >;
    return groupByExec(rows);
  }
}
