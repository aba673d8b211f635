import type pg from 'pg';
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
import { numbered, queryError } from './sql';

/** The executions columns the queries read, named as ExecutionRow names them. */
export const EXECUTION_COLUMNS = `
  s.name AS "sourceName", e.exec_id AS "execId", e.parent_exec_id AS "parentExecId",
  e.node_name AS "nodeName", e.pid AS pid, e."binary" AS "binary", e.flags AS flags,
  e.seen AS seen, e.process_json AS "processJson", e.exit_time AS "exitTime",
  e.exit_status AS "exitStatus", e.exit_signal AS "exitSignal",
  e.ended_unseen_after AS "endedUnseenAfter"`;

const CHILD_COUNTS_SQL = `
SELECT parent_exec_id AS id, count(*)::int AS n FROM executions
WHERE source_id = ? AND parent_exec_id = ANY(?::text[]) AND exec_id <> parent_exec_id
GROUP BY parent_exec_id`;

/** SQLite sorts NULL first; PostgreSQL is told to. Text compares by code point, as in SQLite. */
const NETWORK_SQL = `
SELECT exec_id AS "execId", type, family, protocol, saddr, sport, daddr, dport,
  min(cookie COLLATE "C") AS cookie, count(*)::int AS count,
  sum(bytes_sent)::float8 AS "bytesSent", sum(bytes_received)::float8 AS "bytesReceived",
  min(time COLLATE "C") AS "firstTime"
FROM network_edges
WHERE source_id = ? AND exec_id = ANY(?::text[])
GROUP BY exec_id, type, family, protocol, saddr, sport, daddr, dport
ORDER BY "firstTime" NULLS FIRST`;

const FILES_SQL = `
SELECT exec_id AS "execId", operation, path, count(*)::int AS count,
  sum(bytes)::float8 AS bytes, min(time COLLATE "C") AS "firstTime"
FROM file_edges
WHERE source_id = ? AND exec_id = ANY(?::text[])
GROUP BY exec_id, operation, path
ORDER BY "firstTime" NULLS FIRST`;

/** See ANCESTRY_SQL of the SQLite store. */
const ANCESTRY_SQL = `
WITH RECURSIVE chain(exec_id, depth) AS (
  SELECT ?::text, 0
  UNION ALL
  SELECT e.parent_exec_id, chain.depth + 1
  FROM chain JOIN executions e ON e.source_id = ? AND e.exec_id = chain.exec_id
  WHERE e.parent_exec_id IS NOT NULL AND e.parent_exec_id <> e.exec_id
    AND chain.depth < ${MAX_ANCESTRY}
)
SELECT chain.exec_id AS "chainExecId", chain.depth AS depth, ${EXECUTION_COLUMNS}
FROM chain
LEFT JOIN executions e ON e.source_id = ? AND e.exec_id = chain.exec_id
LEFT JOIN sources s ON s.id = e.source_id
ORDER BY chain.depth`;

/**
 * The descendant walk in one round trip: proctrail_descendants (migration 0002) reads level
 * after level in the server exactly as DescendantWalk asks for them (children in the order of
 * their parents, then of their rows; one more than there is room for) and returns each row
 * with its depth. The walk of the benchmark's tree took six statements, each planned anew.
 */
const DESCENDANTS_SQL = `
SELECT depth, exec_id, parent_exec_id, node_name, pid, "binary", flags, seen, process_json,
  exit_time, exit_status, exit_signal, ended_unseen_after
FROM proctrail_descendants(?, ?, ?, ?)`;

/**
 * Runs one of the tree's statements by name: each connection parses and plans it once and
 * then runs that plan again, where every tree planned its statements anew (about a
 * millisecond each for those that take the tree's thousand exec_ids).
 */
async function prepared<Row extends object>(
  pool: pg.Pool,
  name: string,
  sql: string,
  params: unknown[],
  rowMode?: 'array',
): Promise<Row[]> {
  const text = numbered(sql);
  try {
    const config = { name, text, values: params };
    const result = rowMode
      ? await pool.query<Row & unknown[]>({ ...config, rowMode })
      : await pool.query<Row>(config);
    return result.rows;
  } catch (error) {
    throw queryError(error, text);
  }
}

/** Process trees in PostgreSQL, built as SqliteTreeQueries builds them (keep in step). */
export class PostgresTreeQueries {
  constructor(private readonly pool: pg.Pool) {}

  async tree(
    source: SourceInfo,
    execId: string,
    options: TreeOptions = {},
  ): Promise<ProcessTree | undefined> {
    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    const maxDescendants = options.maxDescendants ?? DEFAULT_MAX_DESCENDANTS;
    // The ancestry and the descendants do not depend on each other: each goes on its own
    // connection, so the tree waits for the longer of the two rather than their sum. An
    // unknown process costs one empty walk.
    const [chain, descendants] = await Promise.all([
      prepared<AncestryRow>(this.pool, 'proctrail_tree_ancestry', ANCESTRY_SQL, [
        execId,
        source.id,
        source.id,
      ]),
      this.descendantsOf(source, execId, maxDepth, maxDescendants),
    ]);
    if (chain.length === 0 || chain[0]!.execId === null) return undefined;
    const { kept } = descendants;

    const ids = treeExecIds(chain, kept);
    const [network, files, uncountedChildren] = await Promise.all([
      this.networkOf(source.id, ids),
      this.filesOf(source.id, ids),
      this.childCounts(source, descendants.uncounted),
    ]);
    const childCounts = new Map([...descendants.childCounts, ...uncountedChildren]);
    return assembleTree({ sourceName: source.name, chain, kept, childCounts, network, files });
  }

  /**
   * See SqliteTreeQueries.descendantsOf: the same walk, its levels read by the server and
   * handed to DescendantWalk here level by level.
   */
  private async descendantsOf(
    source: SourceInfo,
    execId: string,
    maxDepth: number,
    maxDescendants: number,
  ): Promise<Descendants> {
    const rows = await prepared<[number, ...DescendantColumns]>(
      this.pool,
      'proctrail_tree_descendants',
      DESCENDANTS_SQL,
      [source.id, execId, maxDepth, maxDescendants],
      'array',
    );
    const byDepth = new Map<number, DescendantColumns[]>();
    for (const [depth, ...columns] of rows) {
      const level = byDepth.get(depth);
      if (level) level.push(columns);
      else byDepth.set(depth, [columns]);
    }
    const walk = new DescendantWalk(execId, maxDepth, maxDescendants);
    for (let step = walk.next(); step; step = walk.next()) {
      const { depth } = step;
      walk.take((byDepth.get(depth) ?? []).map((c) => descendantRow(source.name, depth, c)));
    }
    return walk.result();
  }

  private async childCounts(source: SourceInfo, ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await prepared<{ id: string; n: number }>(
      this.pool,
      'proctrail_tree_child_counts',
      CHILD_COUNTS_SQL,
      [source.id, ids],
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  async networkOf(sourceId: number, ids: string[]): Promise<Map<string, ProcessNetworkEdge[]>> {
    const rows = await prepared<ProcessNetworkEdge & { execId: string }>(
      this.pool,
      'proctrail_tree_network',
      NETWORK_SQL,
      [sourceId, ids],
    );
    return groupByExec(rows);
  }

  async filesOf(sourceId: number, ids: string[]): Promise<Map<string, ProcessFileEdge[]>> {
    const rows = await prepared<ProcessFileEdge & { execId: string }>(
      this.pool,
      'proctrail_tree_files',
      FILES_SQL,
      [sourceId, ids],
    );
    return groupByExec(rows);
  }
}
