import { z } from 'zod';
import { EVENT_KINDS, type EventKind, type TetragonEvent } from '../tetragon/events';
import { processFiltersSchema } from './search';

/**
 * Filters over single events, for `event.list` and `event.live`. The process fields (binary,
 * args, pid, execId, node, namespace, pod, source) are those of the process the event is
 * about; ip, port and path those of the event's own network or file edge; since and until
 * bound the event's time.
 */
export const eventFiltersSchema = processFiltersSchema.omit({ limit: true }).extend({
  kinds: z
    .array(z.enum(EVENT_KINDS as [EventKind, ...EventKind[]]))
    .min(1)
    .optional(),
});

export type EventFilters = z.input<typeof eventFiltersSchema>;
export type ValidEventFilters = z.output<typeof eventFiltersSchema>;

/** `event.list`: events in the order they were stored, after the id `cursor`. */
export const eventListInputSchema = eventFiltersSchema.extend({
  cursor: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(10_000).default(500),
});

export type EventListInput = z.input<typeof eventListInputSchema>;

/**
 * `event.live`: the same filters, and the id of the last event seen before a reconnect, which
 * the server resumes after (tRPC fills it in on reconnects of a tracked subscription).
 */
export const eventLiveInputSchema = eventFiltersSchema.extend({
  lastEventId: z.string().regex(/^\d+$/, 'expected the decimal id of an event').nullish(),
});

export type EventLiveInput = z.input<typeof eventLiveInputSchema>;

/** A stored event as the API returns it: its store id and its Tetragon JSON. */
export interface ApiEvent {
  id: number;
  kind: EventKind;
  /** The event's time (RFC 3339, nanoseconds), when it carries one. */
  time: string | null;
  execId: string | null;
  nodeName: string | null;
  event: TetragonEvent;
}

export interface EventPage {
  items: ApiEvent[];
  /** The id to pass as `cursor` for the next page; null on the last page. */
  nextCursor: number | null;
}
