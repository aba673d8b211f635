import {
  toSortableTime,
  type ValidEventFilters,
  type ValidProcessFilters,
} from '@proctrail/schema';
import { StoreError } from '../errors';

/** A piece of a WHERE clause with `?` placeholders, in the order of its parameters. */
export interface Condition {
  sql: string;
  params: unknown[];
}

/** The parts of an event search whose SQL differs between the dialects. */
export interface EventDialect {
  /** Conditions on the execution an event is about (joined as `e`, its source as `s`). */
  processConditions(filters: Omit<ValidProcessFilters, 'limit'>): Condition[];
  /** The event's kind is one of `kinds`. */
  kindIn(kinds: readonly string[]): Condition;
  /** One of the event's file edges matches `path`, as a process search's path filter does. */
  pathMatch(path: string): Condition;
}

/**
 * The conditions on single events. Process fields are matched on the execution the event is
 * about; ip, port and path on the event's own edges, so that a stored page and the live bus
 * (see live/event-match.ts) pick the same events. Keep in sync with live/event-match.ts.
 */
export function eventConditions(filters: ValidEventFilters, dialect: EventDialect): Condition[] {
  const { ip, port, path, since, until, kinds, ...processFields } = filters;
  const where: Condition[] = dialect.processConditions(processFields);
  if (kinds?.length) where.push(dialect.kindIn(kinds));
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
  if (path) where.push(dialect.pathMatch(path));
  if (since) where.push({ sql: 'ev.time >= ?', params: [sortable('since', since)] });
  if (until) where.push({ sql: 'ev.time <= ?', params: [sortable('until', until)] });
  return where;
}

function sortable(field: string, time: string): string {
  const value = toSortableTime(time);
  if (!value) throw new StoreError('input', `${field}: not an RFC 3339 time: ${time}`);
  return value;
}

/**
 * The conditions of an event export (events as `ev`): those of the process search on the
 * executions the events are about, then the source by name and the time range.
 */
export function exportConditions(
  filters: Pick<ValidProcessFilters, 'source' | 'since' | 'until'>,
  processWhere: Condition[],
): Condition[] {
  const { source, since, until } = filters;
  const where: Condition[] = [];
  if (processWhere.length) {
    where.push({
      sql: `(ev.source_id, ev.exec_id) IN (
          SELECT e.source_id, e.exec_id FROM executions e JOIN sources s ON s.id = e.source_id
          WHERE ${processWhere.map((c) => c.sql).join(' AND ')})`,
      params: processWhere.flatMap((c) => c.params),
    });
  }
  if (source) {
    where.push({
      sql: 'ev.source_id = (SELECT id FROM sources WHERE name = ?)',
      params: [source],
    });
  }
  if (since) where.push({ sql: 'ev.time >= ?', params: [since] });
  if (until) where.push({ sql: 'ev.time <= ?', params: [until] });
  return where;
}
