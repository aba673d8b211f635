import type Database from 'better-sqlite3';
import { toSortableTime, type ValidEventFilters } from '@proctrail/schema';
import { StoreError } from '../errors';
import type { SourceInfo, StoredEvent } from '../types';
import { processConditions } from './search';

interface Condition {
  sql: string;
  params: unknown[];
}

/**
 * The conditions on single events. Process fields are matched on the execution the event is
 * about (joined as `e`, its source as `s`); ip, port and path on the event's own edges, so
 * that a stored page and the live bus (see live/event-match.ts) pick the same events.
 * Keep in sync with live/event-match.ts.
 */
function eventConditions(filters: ValidEventFilters): Condition[] {
  const { ip, port, path, since, until, kinds, ...processFields } = filters;
  const where: Condition[] = processConditions(processFields);
  if (kinds?.length) {
    where.push({
      sql: `ev.kind IN (SELECT value FROM json_each(?))`,
      params: [JSON.stringify(kinds)],
    });
  }
  if (ip) {
    where.push({
      sql: 'ev.id IN (SELECT event_id FROM network_edges WHERE daddr = ? OR saddr = ?)',
      params: [ip, ip],
    });
  }
  if (port !== undefined) {
    where.push({
      sql: 'ev.id IN (SELECT event_id FROM network_edges WHERE dport = ? OR sport = ?)',
      params: [port, port],
    });
  }
  if (path) where.push(pathCondition(path));
  if (since) where.push({ sql: 'ev.time >= ?', params: [sortable('since', since)] });
  if (until) where.push({ sql: 'ev.time <= ?', params: [sortable('until', until)] });
  return where;
}

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

function sortable(field: string, time: string): string {
  const value = toSortableTime(time);
  if (!value) throw new StoreError('input', `${field}: not an RFC 3339 time: ${time}`);
  return value;
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
  const where = [{ sql: 'ev.id > ?', params: [afterId] }, ...eventConditions(filters)];
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
