import type { EventLiveInput } from '@proctrail/schema';
import { createApiClient } from '../api/client';
import { detectionLine, tailLine, type TailFormat } from './tail-output';
import { terminalSafe } from './terminal-text';

export interface FollowOptions {
  api: string;
  token: string | undefined;
  filters: Omit<EventLiveInput, 'lastEventId'>;
  format: TailFormat;
  maxEvents: number | undefined;
  signal?: AbortSignal;
}

/** Errors that a new attempt cannot fix: stop instead of retrying. */
const FINAL_CODES = new Set(['BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND']);
const RESUBSCRIBE_DELAY_MS = 1000;

/**
 * Follows event.live and prints each event. The WebSocket client reconnects by itself and
 * resumes after the last id it received; when the server ends the subscription (a slow
 * consumer, a restart), this subscribes again with that id, so nothing is missed or doubled.
 * Resolves with the count printed when maxEvents is reached or the signal aborts; rejects on
 * an error that retrying cannot fix (a refused token, a bad filter).
 */
export function followLive(options: FollowOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    let printed = 0;
    let lastEventId: string | undefined;
    let unsubscribe = () => {};
    let stopDetections = () => {};
    let finished = false;

    // The WebSocket reconnects by itself and quietly: say once per outage that the agent is
    // not answering, or a tail started before the agent (or at the wrong address) looks hung.
    let unreachable = false;
    const client = createApiClient({
      url: options.api,
      token: options.token,
      onUnauthorized: () => finish(new Error(`${options.api} refused the token (HTTP 401)`)),
      onSocketError: () => {
        if (unreachable || finished) return;
        unreachable = true;
        console.error(
          `proctrail tail: cannot reach the agent at ${options.api} (is \`proctrail agent\` ` +
            'running there?); retrying',
        );
      },
      onSocketOpen: () => {
        if (unreachable) console.error(`proctrail tail: connected to ${options.api}`);
        unreachable = false;
      },
    });

    const finish = (error?: Error) => {
      if (finished) return;
      finished = true;
      unsubscribe();
      stopDetections();
      void client.close().finally(() => (error ? reject(error) : resolve(printed)));
    };

    const subscribe = () => {
      if (finished) return;
      const input =
        lastEventId === undefined ? options.filters : { ...options.filters, lastEventId };
      const subscription = client.trpc.event.live.subscribe(input, {
        onData: ({ id, data }) => {
          lastEventId = id;
          console.log(tailLine(data.event, options.format));
          printed++;
          if (options.maxEvents !== undefined && printed >= options.maxEvents) finish();
        },
        onError: (error) => {
          const code = (error.data as { code?: string } | undefined)?.code;
          if (code && FINAL_CODES.has(code)) return finish(error);
          console.error(`proctrail tail: ${terminalSafe(error.message)}; resubscribing`);
          setTimeout(subscribe, RESUBSCRIBE_DELAY_MS);
        },
        onComplete: () => setTimeout(subscribe, RESUBSCRIBE_DELAY_MS),
      });
      unsubscribe = () => subscription.unsubscribe();
    };

    // Detections interleave with events; they do not count towards maxEvents.
    const detections = client.trpc.detection.live.subscribe(undefined, {
      onData: ({ data }) => console.log(terminalSafe(detectionLine(data, options.format))),
      onError: (error) =>
        console.error(`proctrail tail: detections: ${terminalSafe(error.message)}`),
    });
    stopDetections = () => detections.unsubscribe();
    options.signal?.addEventListener('abort', () => finish(), { once: true });
    subscribe();
  });
}
