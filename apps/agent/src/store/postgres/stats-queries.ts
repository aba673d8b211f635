import type pg from 'pg';
import { POD_LIST_LIMIT, toSortableTime } from '@proctrail/schema';
import { nodeActivity, type NodeEventSpan } from '../node-activity';
import type { StoreStats, TimeRange } from '../types';
import { run } from './sql';

/** See storeStats of the SQLite store: the same counts, the same order of ties. */
export async function storeStats(
  pool: pg.Pool,
  topBinaries: number,
  range: TimeRange = {},
): Promise<StoreStats> {
  const since = range.since ? toSortableTime(range.since) : undefined;
  const until = range.until ? toSortableTime(range.until) : undefined;
  const boundParams = [...(since ? [since] : []), ...(until ? [until] : [])];
  const bounds = (column: string) =>
    [since && `${column} >= ?`, until && `${column} <= ?`].filter(Boolean).join(' AND ');
  const where = (column: string, ...more: string[]) => {
    const conditions = [bounds(column), ...more].filter(Boolean);
    return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  };
  const one = async (sql: string) => (await run<{ n: number }>(pool, sql, boundParams))[0]!.n;

  const byKind: Record<string, number> = {};
  const kinds = await run<{ kind: string; n: number }>(
    pool,
    `SELECT kind, count(*) AS n FROM events ${where('time')} GROUP BY kind`,
    boundParams,
  );
  for (const row of kinds) byKind[row.kind] = row.n;

  const byBinary = await run<StoreStats['byBinary'][number]>(
    pool,
    `SELECT coalesce(e."binary", '') AS "binary", count(*) AS events
     FROM events ev JOIN executions e ON e.source_id = ev.source_id AND e.exec_id = ev.exec_id
     ${where('ev.time')}
     GROUP BY e."binary" ORDER BY events DESC, coalesce(e."binary", '') COLLATE "C" LIMIT ?`,
    [...boundParams, topBinaries],
  );
  const nodeSpans = await run<NodeEventSpan>(
    pool,
    `SELECT coalesce(node_name, '') AS node, count(*) AS events,
       min(time COLLATE "C") AS "firstTime", max(time COLLATE "C") AS "lastTime"
     FROM events ${where('time')}
     GROUP BY node_name ORDER BY events DESC, coalesce(node_name, '') COLLATE "C"`,
    boundParams,
  );
  const byNode = nodeActivity(nodeSpans, range);
  const byPod = await run<StoreStats['byPod'][number]>(
    pool,
    `SELECT coalesce(node_name, '') AS node, coalesce(pod_namespace, '') AS namespace,
       pod_name AS pod, count(*)::int AS processes
     FROM executions ${where('start_time', 'pod_name IS NOT NULL')}
     GROUP BY node_name, pod_namespace, pod_name
     ORDER BY coalesce(node_name, '') COLLATE "C", coalesce(pod_namespace, '') COLLATE "C",
       pod_name COLLATE "C"
     LIMIT ${POD_LIST_LIMIT}`,
    boundParams,
  );

  const placeholders =
    since || until
      ? await one(
          `SELECT count(DISTINCT p.id) AS n FROM executions c
           JOIN executions p ON p.source_id = c.source_id AND p.exec_id = c.parent_exec_id
           ${where('c.start_time', '(p.seen & 3) = 0')}`,
        )
      : await one('SELECT count(*) AS n FROM executions WHERE (seen & 3) = 0');

  return {
    events: await one(`SELECT count(*) AS n FROM events ${where('time')}`),
    byKind,
    byBinary,
    byNode,
    byPod,
    executions: await one(`SELECT count(*) AS n FROM executions ${where('start_time')}`),
    placeholders,
    unattributed: await one(
      `SELECT count(*) AS n FROM events ${where('time', 'exec_id IS NULL', 'pid IS NOT NULL')}`,
    ),
  };
}

export async function lastEvent(
  pool: pg.Pool,
): Promise<{ id: number; time: string | null } | undefined> {
  const [row] = await run<{ id: number; time: string | null }>(
    pool,
    'SELECT id, time FROM events ORDER BY id DESC LIMIT 1',
  );
  return row;
}
