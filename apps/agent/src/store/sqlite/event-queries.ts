import type Database from 'better-sqlite3';
import type { ValidEventFilters } from '@proctrail/schema';
import { StoreError } from '../errors';
import type { SourceInfo, StoredEvent } from '../types';
import { processConditions } from './search';
import { eventConditions, type Condition, type EventDialect } from '../shared/event-conditions';

/** SQLite's forms of what an event search needs: JSON arrays for lists, GLOB for paths. */
const SQLITE_EVENTS: EventDialect = {
  processConditions,
  kindIn: (kinds) => ({
    sql: `ev.kind IN (SELECT value FROM json_each(?))`,
    params: [JSON.stringify(kinds)],
  }),
  pathMatch: pathCondition,
};

/** A path and what lies below it when it starts with "/", else a substring; as search does. */
function pathCondition(path: string): Condition {
  if (!path.startsWith('/')) {
    const like = `%${path.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return {
      sql: `ev.id IN (SELECT event_id FROM file_edges WHERE path LIKE ? ESCAPE '\\')`,
      params: [like],
    };
  }
  const dir = path.endsWith('/') ? path : `${path}/`;
  const below = `${dir.replace(/[*?[]/g, (c) => `[${c}]`)}*`;
  return {
    sql: 'ev.id IN (SELECT event_id FROM file_edges WHERE path = ? OR path GLOB ?)',
    params: [path, below],
  };
}

/**
 * Stored events with ids above `afterId` that match `filters`, in id order, `limit` at most.
 * Id order is the order events were stored in, which the live bus also follows.
 */
export function eventsAfter(
  db: Database.Database,
  afterId: number,
  filters: ValidEventFilters,
  limit: number,
): StoredEvent[] {
  const where = [
    { sql: 'ev.id > ?', params: [afterId] },
    ...eventConditions(filters, SQLITE_EVENTS),
  ];
  const sql = `
    SELECT ev.id, ev.source_id AS sourceId, ev.kind, ev.time, ev.exec_id AS execId,
      ev.node_name AS nodeName, ev.raw AS json
    FROM events ev
    JOIN sources s ON s.id = ev.source_id
    LEFT JOIN executions e ON e.source_id = ev.source_id AND e.exec_id = ev.exec_id
    WHERE ${where.map((c) => c.sql).join(' AND ')}
    ORDER BY ev.id
    LIMIT ?`;
  try {
    return db.prepare(sql).all(...where.flatMap((c) => c.params), limit) as StoredEvent[];
  } catch (error) {
    throw new StoreError('query', `cannot list events: ${(error as Error).message}`, {
      cause: error,
      sql,
    });
  }
}

export function sourceNamed(db: Database.Database, name: string): SourceInfo | undefined {
  return db.prepare('SELECT id, name, kind FROM sources WHERE name = ?').get(name) as
    SourceInfo | undefined;
}
