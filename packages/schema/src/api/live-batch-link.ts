import type { Operation, OperationResultEnvelope, TRPCClientError, TRPCLink } from '@trpc/client';
import type { AnyRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import type { ApiEvent } from './events';

/** The subscription clients ask for, and the one the link sends instead. */
export const LIVE_PATH = 'event.live';
export const LIVE_BATCHES_PATH = 'event.liveBatches';

/**
 * One message of `event.liveBatches`: the events as the text of a JSON array of ApiEvent. The
 * agent builds each event's text once, whatever the number of subscribers, and the browser
 * decodes a whole message in one JSON.parse.
 */
export interface LiveEventBatch {
  events: string;
}

/** The events of a batch, in order. Throws on text that is not an array of events. */
export function unpackLiveBatch(batch: LiveEventBatch): ApiEvent[] {
  const events: unknown = JSON.parse(batch.events);
  if (!Array.isArray(events)) throw new TypeError('a live batch must hold a JSON array');
  for (const event of events as Array<Partial<ApiEvent>>) {
    if (typeof event?.id !== 'number' || typeof event.event !== 'object') {
      throw new TypeError('a live batch holds something that is not an event');
    }
  }
  return events as ApiEvent[];
}

type Envelope = OperationResultEnvelope<unknown, TRPCClientError<AnyRouter>>;

/**
 * A tRPC link that turns `event.live` subscriptions into `event.liveBatches` ones and hands
 * the subscriber every event of each batch on its own, tracked by its own id: callers keep
 * event.live's types and one onData per event, while the agent sends one WebSocket message per
 * batch instead of one per event. The batch itself is tracked by its last event's id, so the
 * WebSocket client resumes after it on a reconnect, as it would after single events.
 * Put it before the link that carries subscriptions (wsLink).
 */
export function liveBatchLink<TRouter extends AnyRouter>(): TRPCLink<TRouter> {
  return () =>
    ({ op, next }) => {
      if (op.type !== 'subscription' || op.path !== LIVE_PATH) return next(op);
      const batched: Operation = { ...op, path: LIVE_BATCHES_PATH };
      return observable<Envelope, TRPCClientError<TRouter>>((observer) => {
        const subscription = next(batched).subscribe({
          next(envelope) {
            const result = envelope.result as { type?: string; data?: unknown };
            if (result.type !== undefined && result.type !== 'data') {
              observer.next(envelope);
              return;
            }
            const tracked = result.data as { id: string; data: LiveEventBatch };
            let events: ApiEvent[];
            try {
              events = unpackLiveBatch(tracked.data);
            } catch (error) {
              observer.error(error as TRPCClientError<TRouter>);
              return;
            }
            for (const event of events) {
              const id = String(event.id);
              observer.next({
                ...envelope,
                result: { type: 'data', id, data: { id, data: event } },
              });
            }
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        });
        return () => subscription.unsubscribe();
      });
    };
}
