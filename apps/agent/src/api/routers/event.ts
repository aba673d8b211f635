import { TRPCError, tracked } from '@trpc/server';
import {
  eventListInputSchema,
  eventLiveInputSchema,
  type ApiEvent,
  type EventPage,
  type TetragonEvent,
  type ValidEventFilters,
} from '@proctrail/schema';
import { eventMatcher } from '../../live/event-match';
import { SlowConsumerError } from '../../live/live-bus';
import type { StoredEvent } from '../../store/types';
import type { ApiContext } from '../context';
import { publicProcedure, router } from '../trpc';

export function toApiEvent(stored: StoredEvent): ApiEvent {
  return {
    id: stored.id,
    kind: stored.kind,
    time: stored.time,
    execId: stored.execId,
    nodeName: stored.nodeName,
    event: JSON.parse(stored.json) as TetragonEvent,
  };
}

/** The id of the `source` filter's name; undefined when no source has it (nothing matches). */
async function sourceIdOf(ctx: ApiContext, filters: ValidEventFilters) {
  if (filters.source === undefined) return undefined;
  return (await ctx.store.sourceNamed(filters.source))?.id;
}

export const eventRouter = router({
  /** Stored events in the order they were stored, after the id `cursor`. */
  list: publicProcedure.input(eventListInputSchema).query(async ({ ctx, input }) => {
    const { cursor = 0, limit, ...filters } = input;
    const found = await ctx.store.eventsAfter(cursor, filters, limit + 1);
    const items = found.slice(0, limit).map(toApiEvent);
    const page: EventPage = {
      items,
      nextCursor: found.length > limit ? items.at(-1)!.id : null,
    };
    return page;
  }),

  /**
   * Events as they are stored. Each carries its id through tracked(), so a client that
   * reconnects sends it back as lastEventId and receives exactly what it missed.
   */
  live: publicProcedure.input(eventLiveInputSchema).subscription(async function* (opts) {
    const { ctx, input, signal } = opts;
    const { lastEventId, ...filters } = input;
    const match = eventMatcher(filters, await sourceIdOf(ctx, filters));
    const events = ctx.bus.subscribe({
      filters,
      match,
      lastEventId: lastEventId ? Number(lastEventId) : undefined,
      signal,
    });
    try {
      for await (const stored of events) yield tracked(String(stored.id), toApiEvent(stored));
    } catch (error) {
      if (!(error instanceof SlowConsumerError)) throw error;
      ctx.logger.warn({ queueLimit: error.queueLimit }, 'dropped a slow live subscriber');
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: error.message, cause: error });
    }
  }),
});
