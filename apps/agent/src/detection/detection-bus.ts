import type { Detection } from '@proctrail/schema';

/** Detections waiting for one subscriber before the oldest are dropped. */
const QUEUE_LIMIT = 1_000;

type Listener = (detection: Detection) => void;

/**
 * Detections as they are stored, for `detection.live`. Detections are rare next to events, so
 * a subscriber's queue simply drops its oldest entries when it falls 1000 behind.
 * Limitation: no replay; a client that reconnects reads what it missed from `detection.list`.
 */
export class DetectionBus {
  private readonly listeners = new Set<Listener>();

  publish(detections: readonly Detection[]): void {
    for (const detection of detections) {
      for (const listener of this.listeners) listener(detection);
    }
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  async *subscribe(signal?: AbortSignal): AsyncGenerator<Detection> {
    const queue: Detection[] = [];
    let wake: (() => void) | undefined;
    const listener: Listener = (detection) => {
      queue.push(detection);
      if (queue.length > QUEUE_LIMIT) queue.shift();
      wake?.();
    };
    const onAbort = () => wake?.();
    this.listeners.add(listener);
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.listeners.delete(listener);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.listeners.clear();
  }
}
