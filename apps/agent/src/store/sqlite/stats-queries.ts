import type Database from 'better-sqlite3';
import type { StoreStats } from '../types';

/**
 * What the store holds, counted. Full-table counts: on a database of millions of events this
 * takes a fraction of a second, which a dashboard polling every few seconds can afford.
 */
export function storeStats(db: Database.Database, topBinaries: number): StoreStats {
  const one = (sql: string) => db.prepare(sql).pluck().get() as number;
  const byKind: Record<string, number> = {};
  const kinds = db.prepare('SELECT kind, count(*) AS n FROM events GROUP BY kind').all() as Array<{
    kind: string;
    n: number;
  }>;
  for (const row of kinds) byKind[row.kind] = row.n;

  const byBinary = db
    .prepare(
      `SELECT coalesce(e.binary, '') AS binary, count(*) AS events
       FROM events ev JOIN executions e ON e.source_id = ev.source_id AND e.exec_id = ev.exec_id
       GROUP BY e.binary ORDER BY events DESC, binary LIMIT ?`,
    )
    .all(topBinaries) as StoreStats['byBinary'];
  const byNode = db
    .prepare(
      `SELECT coalesce(node_name, '') AS node, count(*) AS events FROM events
       GROUP BY node_name ORDER BY events DESC, node`,
    )
    .all() as StoreStats['byNode'];

  return {
    events: one('SELECT count(*) FROM events'),
    byKind,
    byBinary,
    byNode,
    executions: one('SELECT count(*) FROM executions'),
    placeholders: one('SELECT count(*) FROM executions WHERE (seen & 3) = 0'),
    unattributed: one('SELECT count(*) FROM events WHERE exec_id IS NULL AND pid IS NOT NULL'),
  };
}

/** The newest stored event's id and time; undefined for an empty store. */
export function lastEvent(db: Database.Database): { id: number; time: string | null } | undefined {
  return db.prepare('SELECT id, time FROM events ORDER BY id DESC LIMIT 1').get() as
    { id: number; time: string | null } | undefined;
}
