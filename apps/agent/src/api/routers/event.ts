import { TRPCError, tracked } from '@trpc/server';
import {
  eventListInputSchema,
  eventLiveInputSchema,
  type ApiEvent,
  type EventPage,
  type TetragonEvent,
  type ValidEventFilters,
} from '@proctrail/schema';
import type { LiveEventBatch } from '@proctrail/schema/live-batch-link';
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

/**
 * toApiEvent's JSON text, built around the stored JSON without parsing it, and once per
 * event: every subscriber's batch reuses it (the bus hands them the same StoredEvent).
 */
const apiEventTexts = new WeakMap<StoredEvent, string>();
export function apiEventJson(stored: StoredEvent): string {
  let text = apiEventTexts.get(stored);
  if (text === undefined) {
    text =
      `{"id":${stored.id},"kind":${JSON.stringify(stored.kind)},` +
      `"time":${JSON.stringify(stored.time)},"execId":${JSON.stringify(stored.execId)},` +
      `"nodeName":${JSON.stringify(stored.nodeName)},"event":${stored.json}}`;
    apiEventTexts.set(stored, text);
  }
  return text;
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
      throw slowConsumerAsTrpcError(ctx, error);
    }
  }),

  /**
   * event.live in batches: one message carries every event that matched since the last one
   * (at most a thousand), as JSON text (LiveEventBatch), tracked by the id of its last event.
   * liveBatchLink (@proctrail/schema/live-batch-link) turns event.live subscriptions into
   * these and unpacks them, so a client sees single events and pays one message per batch.
   */
  liveBatches: publicProcedure.input(eventLiveInputSchema).subscription(async function* (opts) {
    const { ctx, input, signal } = opts;
    const { lastEventId, ...filters } = input;
    const match = eventMatcher(filters, await sourceIdOf(ctx, filters));
    const batches = ctx.bus.subscribeBatches({
      filters,
      match,
      lastEventId: lastEventId ? Number(lastEventId) : undefined,
      signal,
    });
    try {
      for await (const batch of batches) {
        const message: LiveEventBatch = { events: `[${batch.map(apiEventJson).join(',')}]` };
        yield tracked(String(batch.at(-1)!.id), message);
      }
    } catch (error) {
      throw slowConsumerAsTrpcError(ctx, error);
    }
  }),
});

function slowConsumerAsTrpcError(ctx: ApiContext, error: unknown): unknown {
  if (!(error instanceof SlowConsumerError)) return error;
  ctx.logger.warn({ queueLimit: error.queueLimit }, 'dropped a slow live subscriber');
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: error.message, cause: error });
}
