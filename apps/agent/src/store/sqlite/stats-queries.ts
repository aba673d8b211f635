import type Database from 'better-sqlite3';
import { POD_LIST_LIMIT, toSortableTime } from '@proctrail/schema';
import { nodeActivity, type NodeEventSpan } from '../node-activity';
import type { StoreStats, TimeRange } from '../types';

/**
 * What the store holds, counted: every event and execution, or with a range the events whose
 * time is in it and the executions that started in it (events and executions without a time
 * are then left out). Full-table counts without a range: on a database of millions of events
 * this takes a fraction of a second, which a dashboard polling every few seconds can afford;
 * a range walks the time indexes.
 */
export function storeStats(
  db: Database.Database,
  topBinaries: number,
  range: TimeRange = {},
): StoreStats {
  const since = range.since ? toSortableTime(range.since) : undefined;
  const until = range.until ? toSortableTime(range.until) : undefined;
  const bounds = (column: string) =>
    [since && `${column} >= @since`, until && `${column} <= @until`].filter(Boolean).join(' AND ');
  const where = (column: string, ...more: string[]) => {
    const conditions = [bounds(column), ...more].filter(Boolean);
    return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  };
  const params = { ...(since ? { since } : {}), ...(until ? { until } : {}) };
  const one = (sql: string) => db.prepare(sql).pluck().get(params) as number;

  const byKind: Record<string, number> = {};
  const kinds = db
    .prepare(`SELECT kind, count(*) AS n FROM events ${where('time')} GROUP BY kind`)
    .all(params) as Array<{ kind: string; n: number }>;
  for (const row of kinds) byKind[row.kind] = row.n;

  const byBinary = db
    .prepare(
      `SELECT coalesce(e.binary, '') AS binary, count(*) AS events
       FROM events ev JOIN executions e ON e.source_id = ev.source_id AND e.exec_id = ev.exec_id
       ${where('ev.time')}
       GROUP BY e.binary ORDER BY events DESC, binary LIMIT @topBinaries`,
    )
    .all({ ...params, topBinaries }) as StoreStats['byBinary'];
  const nodeSpans = db
    .prepare(
      `SELECT coalesce(node_name, '') AS node, count(*) AS events,
         min(time) AS firstTime, max(time) AS lastTime
       FROM events ${where('time')}
       GROUP BY node_name ORDER BY events DESC, node`,
    )
    .all(params) as NodeEventSpan[];
  const byNode = nodeActivity(nodeSpans, range);
  const byPod = db
    .prepare(
      `SELECT coalesce(node_name, '') AS node, coalesce(pod_namespace, '') AS namespace,
         pod_name AS pod, count(*) AS processes
       FROM executions ${where('start_time', 'pod_name IS NOT NULL')}
       GROUP BY node_name, pod_namespace, pod_name ORDER BY node, namespace, pod
       LIMIT ${POD_LIST_LIMIT}`,
    )
    .all(params) as StoreStats['byPod'];

  // A placeholder has no start time of its own: with a range, the placeholders counted are
  // the parents that executions started in the range name.
  const placeholders =
    since || until
      ? one(
          `SELECT count(DISTINCT p.id) FROM executions c
           JOIN executions p ON p.source_id = c.source_id AND p.exec_id = c.parent_exec_id
           ${where('c.start_time', '(p.seen & 3) = 0')}`,
        )
      : one('SELECT count(*) FROM executions WHERE (seen & 3) = 0');

  return {
    events: one(`SELECT count(*) FROM events ${where('time')}`),
    byKind,
    byBinary,
    byNode,
    byPod,
    executions: one(`SELECT count(*) FROM executions ${where('start_time')}`),
    placeholders,
    unattributed: one(
      `SELECT count(*) FROM events ${where('time', 'exec_id IS NULL', 'pid IS NOT NULL')}`,
    ),
  };
}

/** The newest stored event's id and time; undefined for an empty store. */
export function lastEvent(db: Database.Database): { id: number; time: string | null } | undefined {
  return db.prepare('SELECT id, time FROM events ORDER BY id DESC LIMIT 1').get() as
    { id: number; time: string | null } | undefined;
}
