import {
  containerIdOf,
  fileEdgesOf,
  networkEdgesOf,
  parseTetragonEvent,
  toSortableTime,
  type ParsedEvent,
  type TetragonProcess,
  type ValidEventFilters,
} from '@proctrail/schema';
import type { StoredEvent } from '../store/types';

/**
 * A published event with its JSON decoded at most once, however many subscribers look at it:
 * the publisher pays for parsing only when some subscriber filters on its content.
 */
export class LiveEvent {
  private value: Record<string, unknown> | undefined;
  private parsedEvent: ParsedEvent | null | undefined;

  /** `decoded` spares a parse when the caller already holds the event as an object. */
  constructor(
    readonly stored: StoredEvent,
    decoded?: Record<string, unknown>,
  ) {
    this.value = decoded;
  }

  json(): Record<string, unknown> {
    this.value ??= JSON.parse(this.stored.json) as Record<string, unknown>;
    return this.value;
  }

  process(): TetragonProcess | undefined {
    const body = this.json()[this.stored.kind] as { process?: TetragonProcess } | undefined;
    return body?.process;
  }

  parsed(): ParsedEvent | null {
    if (this.parsedEvent === undefined) {
      const outcome = parseTetragonEvent(this.json());
      this.parsedEvent = outcome.ok ? outcome.parsed : null;
    }
    return this.parsedEvent;
  }
}

export type EventMatcher = (event: LiveEvent) => boolean;

/** SQLite's LIKE, which the store uses, ignores ASCII case; so does the live match. */
function contains(haystack: string | undefined, needle: string): boolean {
  return haystack !== undefined && haystack.toLowerCase().includes(needle.toLowerCase());
}

function underPath(path: string, filter: string): boolean {
  if (!filter.startsWith('/')) return contains(path, filter);
  const dir = filter.endsWith('/') ? filter : `${filter}/`;
  return path === filter || path.startsWith(dir);
}

/**
 * The live counterpart of the store's event filters (store/sqlite/event-queries.ts): process
 * fields of the process the event is about, ip, port and path of the event's own edges, the
 * event's time. Keep the two in sync: a subscriber resuming from the store and then from the
 * bus must see one stream. `sourceId` is the id of the `source` filter's name, resolved by
 * the caller; undefined with a `source` filter means no source has that name.
 */
export function eventMatcher(filters: ValidEventFilters, sourceId?: number): EventMatcher {
  const checks: EventMatcher[] = [];
  const { binary, args, pid, execId, node, namespace, pod, ip, port, path, kinds } = filters;
  if (filters.source !== undefined) checks.push((e) => e.stored.sourceId === sourceId);
  if (kinds?.length) checks.push((e) => kinds.includes(e.stored.kind));
  if (binary) checks.push((e) => contains(e.process()?.binary, binary));
  if (args) checks.push((e) => contains(e.process()?.arguments, args));
  if (pid !== undefined) checks.push((e) => e.process()?.pid === pid);
  if (execId) checks.push((e) => e.stored.execId === execId);
  if (node) checks.push((e) => e.stored.nodeName === node);
  if (namespace) checks.push((e) => e.process()?.pod?.namespace === namespace);
  if (pod) checks.push((e) => contains(e.process()?.pod?.name, pod));
  if (filters.container) {
    const wanted = filters.container;
    const id = containerIdOf({ pod: { container: { id: wanted } } }) ?? wanted;
    checks.push((e) => {
      const process = e.process();
      if (!process) return false;
      if (process.pod?.container?.name === wanted) return true;
      const stored = containerIdOf(process);
      if (stored === undefined) return false;
      // The store's rule: a prefix of the id, or the process's docker prefix of the filter.
      return stored.startsWith(id) || (stored.length >= 12 && id.startsWith(stored));
    });
  }
  if (filters.workload) checks.push((e) => e.process()?.pod?.workload === filters.workload);
  if (ip) checks.push((e) => networkOf(e).some((n) => n.daddr === ip || n.saddr === ip));
  if (port !== undefined) {
    checks.push((e) => networkOf(e).some((n) => n.dport === port || n.sport === port));
  }
  if (path) checks.push((e) => filesOf(e).some((f) => underPath(f.path, path)));
  const since = filters.since && toSortableTime(filters.since);
  const until = filters.until && toSortableTime(filters.until);
  if (since) checks.push((e) => e.stored.time !== null && e.stored.time >= since);
  if (until) checks.push((e) => e.stored.time !== null && e.stored.time <= until);
  return (event) => checks.every((check) => check(event));
}

function networkOf(event: LiveEvent) {
  const parsed = event.parsed();
  return parsed ? networkEdgesOf(parsed) : [];
}

function filesOf(event: LiveEvent) {
  const parsed = event.parsed();
  return parsed ? fileEdgesOf(parsed) : [];
}
