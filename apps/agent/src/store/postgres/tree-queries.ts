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
import { run, runArrays } from './sql';

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
 * One level's children in the order of the level's exec_ids, then of their rows (the order
 * SQLite's nested loop over its parent index gives), `LIMIT` at most.
 */
const CHILDREN_SQL = `
SELECT e.exec_id, e.parent_exec_id, e.node_name, e.pid, e."binary", e.flags,
  e.seen, e.process_json, e.exit_time, e.exit_status, e.exit_signal, e.ended_unseen_after
FROM unnest(?::text[]) WITH ORDINALITY AS level(exec_id, n)
JOIN executions e ON e.source_id = ? AND e.parent_exec_id = level.exec_id
WHERE e.exec_id <> e.parent_exec_id
ORDER BY level.n, e.id
LIMIT ?`;

/** Process trees in PostgreSQL, built as SqliteTreeQueries builds them (keep in step). */
export class PostgresTreeQueries {
  constructor(private readonly pool: pg.Pool) {}

  async tree(
    source: SourceInfo,
    execId: string,
    options: TreeOptions = {},
  ): Promise<ProcessTree | undefined> {
    const chain = await run<AncestryRow>(this.pool, ANCESTRY_SQL, [execId, source.id, source.id]);
    if (chain.length === 0 || chain[0]!.execId === null) return undefined;

    const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    const maxDescendants = options.maxDescendants ?? DEFAULT_MAX_DESCENDANTS;
    const descendants = await this.descendantsOf(source, execId, maxDepth, maxDescendants);
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

  /** See SqliteTreeQueries.descendantsOf. */
  private async descendantsOf(
    source: SourceInfo,
    execId: string,
    maxDepth: number,
    maxDescendants: number,
  ): Promise<Descendants> {
    const walk = new DescendantWalk(execId, maxDepth, maxDescendants);
    for (let step = walk.next(); step; step = walk.next()) {
      const { depth } = step;
      const rows = await runArrays<DescendantColumns>(this.pool, CHILDREN_SQL, [
        step.level,
        source.id,
        step.limit,
      ]);
      walk.take(rows.map((c) => descendantRow(source.name, depth, c)));
    }
    return walk.result();
  }

  private async childCounts(source: SourceInfo, ids: string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await run<{ id: string; n: number }>(this.pool, CHILD_COUNTS_SQL, [
      source.id,
      ids,
    ]);
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  async networkOf(sourceId: number, ids: string[]): Promise<Map<string, ProcessNetworkEdge[]>> {
    const rows = await run<ProcessNetworkEdge & { execId: string }>(this.pool, NETWORK_SQL, [
      sourceId,
      ids,
    ]);
    return groupByExec(rows);
  }

  async filesOf(sourceId: number, ids: string[]): Promise<Map<string, ProcessFileEdge[]>> {
    const rows = await run<ProcessFileEdge & { execId: string }>(this.pool, FILES_SQL, [
      sourceId,
      ids,
    ]);
    return groupByExec(rows);
  }
}
