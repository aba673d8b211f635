import type { ValidEventFilters } from '@proctrail/schema';
import type { AgentMetrics } from '../metrics/metrics';
import type { Store, StoredEvent } from '../store/types';
import { LiveEvent, type EventMatcher } from './event-match';
import { RingBuffer } from './ring-buffer';

/** Thrown into a subscription whose queue overflowed: the client read slower than events came. */
export class SlowConsumerError extends Error {
  readonly code = 'SLOW_CONSUMER';

  constructor(readonly queueLimit: number) {
    super(
      `SLOW_CONSUMER: more than ${queueLimit} events waited for this subscriber; ` +
        'it was dropped so the publisher never waits. Resubscribe with lastEventId to resume.',
    );
    this.name = 'SlowConsumerError';
  }
}

export interface LiveBusOptions {
  /** How many recent events the bus remembers for reconnecting subscribers. */
  ringSize?: number;
  /** How many events may wait for one subscriber before it is dropped as too slow. */
  queueLimit?: number;
  /** Where a resuming subscriber's gap comes from when it is older than the ring. */
  store?: Pick<Store, 'eventsAfter'>;
  /** Events per store query while filling such a gap. */
  pageSize?: number;
  metrics?: AgentMetrics;
}

export interface SubscribeOptions {
  filters: ValidEventFilters;
  match: EventMatcher;
  /** Resume after this event id: every matching event with a higher id, none twice. */
  lastEventId?: number;
  signal?: AbortSignal;
}

const DEFAULT_RING_SIZE = 10_000;
const DEFAULT_QUEUE_LIMIT = 5_000;
const DEFAULT_PAGE_SIZE = 1_000;
/** Events per batch a subscriber takes: one WebSocket message of a few hundred kB at most. */
const DEFAULT_MAX_BATCH = 1_000;

/** One subscriber's bounded queue. Overflow fails it instead of making the publisher wait. */
class SubscriberQueue {
  private items: StoredEvent[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  failure: SlowConsumerError | undefined;

  constructor(
    readonly match: EventMatcher,
    private readonly limit: number,
  ) {}

  get depth(): number {
    return this.items.length - this.head;
  }

  /** Returns false when the subscriber overflowed with this event. */
  offer(event: StoredEvent): boolean {
    if (this.failure) return false;
    if (this.depth >= this.limit) {
      this.failure = new SlowConsumerError(this.limit);
      this.items = [];
      this.head = 0;
      this.notify();
      return false;
    }
    this.items.push(event);
    this.notify();
    return true;
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /**
   * Every event waiting (at most `max`), oldest first; waits for one when none is. Undefined
   * once the signal aborts or the bus closes. Taking the whole queue at once is what lets a
   * subscription send one message per publish instead of one per event.
   */
  async takeBatch(
    max: number,
    signal: AbortSignal | undefined,
    closed: () => boolean,
  ): Promise<StoredEvent[] | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (signal?.aborted || closed()) return undefined;
      if (this.depth > 0) {
        const end = Math.min(this.items.length, this.head + max);
        const batch = this.items.slice(this.head, end);
        this.head = end;
        if (this.head === this.items.length) {
          this.items = [];
          this.head = 0;
        } else if (this.head > 1024 && this.head * 2 > this.items.length) {
          // Compact now and then, so a long-lived queue does not keep every event it served.
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
        return batch;
      }
      let onAbort: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        onAbort = resolve;
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * The in-memory fan-out of stored events to live subscribers. The pipeline publishes each
 * batch after the store wrote it (so every published event has its id and can be found again
 * in the store), in the order the store wrote them. The bus keeps the most recent events in a
 * ring so a reconnecting client resumes from its last id; an older gap is filled from the
 * store. Publishing never waits: a subscriber whose queue overflows is dropped with a
 * SlowConsumerError.
 */
export class LiveBus {
  private readonly ring: RingBuffer<StoredEvent>;
  private readonly queueLimit: number;
  private readonly pageSize: number;
  private readonly subscribers = new Set<SubscriberQueue>();
  /**
   * Every event published with an id above this one is still in the ring; null until the
   * first publish. Rises as the ring forgets its oldest events.
   */
  private coveredAfter: number | null = null;
  private closed = false;

  constructor(private readonly options: LiveBusOptions = {}) {
    this.ring = new RingBuffer(options.ringSize ?? DEFAULT_RING_SIZE);
    this.queueLimit = options.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Hands stored events to every matching subscriber; never blocks, never throws for them. */
  publish(events: readonly StoredEvent[]): void {
    for (const stored of events) {
      if (this.coveredAfter === null) this.coveredAfter = stored.id - 1;
      const evicted = this.ring.push(stored);
      if (evicted) this.coveredAfter = evicted.id;
      const event = new LiveEvent(stored);
      for (const subscriber of this.subscribers) {
        if (!subscriber.match(event)) continue;
        if (!subscriber.offer(stored)) this.drop(subscriber);
      }
    }
    this.options.metrics?.queueDepth.set({ queue: 'live' }, this.queuedInAll());
  }

  /**
   * The matching events after `lastEventId` (first from the store when the ring no longer
   * holds them, then from the ring), then live ones as they are published. Ends when the
   * signal aborts or the bus closes; throws SlowConsumerError when the subscriber fell behind.
   */
  async *subscribe(options: SubscribeOptions): AsyncGenerator<StoredEvent> {
    for await (const batch of this.subscribeBatches(options)) yield* batch;
  }

  /**
   * subscribe() in batches: whatever matched since the subscriber last took, at most
   * `maxBatch` events (a store page, the ring's backlog, or the events of the publishes that
   * came while it was busy). Never an empty batch; ids rise across batches, none twice.
   */
  async *subscribeBatches(
    options: SubscribeOptions,
    maxBatch = DEFAULT_MAX_BATCH,
  ): AsyncGenerator<StoredEvent[]> {
    const { filters, match, signal } = options;
    let cursor = options.lastEventId;
    const queue = new SubscriberQueue(match, this.queueLimit);
    try {
      if (cursor !== undefined) {
        const progress = { cursor };
        yield* this.catchUpFromStore(progress, filters);
        cursor = progress.cursor;
      }
      // Reading the ring and joining the subscribers happen in one turn of the event loop,
      // so no publish falls between the backlog and the live queue.
      const backlog = cursor === undefined ? [] : this.ring.after(cursor);
      this.subscribers.add(queue);
      this.options.metrics?.liveSubscribers.set(this.subscribers.size);
      const matched = backlog.filter((stored) => match(new LiveEvent(stored)));
      for (let start = 0; start < matched.length; start += maxBatch) {
        const batch = matched.slice(start, start + maxBatch);
        cursor = batch.at(-1)!.id;
        yield batch;
      }
      for (;;) {
        const taken = await queue.takeBatch(maxBatch, signal, () => this.closed);
        if (!taken) return;
        const fresh = cursor === undefined ? taken : taken.filter((event) => event.id > cursor!);
        if (fresh.length === 0) continue;
        cursor = fresh.at(-1)!.id;
        yield fresh;
      }
    } finally {
      this.subscribers.delete(queue);
      this.options.metrics?.liveSubscribers.set(this.subscribers.size);
    }
  }

  /**
   * Pages of stored events after `afterId` until the ring covers the rest. An incomplete page
   * means the store holds nothing more that matches; since every event up to the ring's
   * coverage was stored before it was published, the cursor may then jump to that coverage.
   * `progress.cursor` ends as the id up to which nothing else matches.
   */
  private async *catchUpFromStore(
    progress: { cursor: number },
    filters: ValidEventFilters,
  ): AsyncGenerator<StoredEvent[]> {
    const store = this.options.store;
    let cursor = progress.cursor;
    while (store && !this.covers(cursor)) {
      const coveredBefore = this.coveredAfter;
      const page = await store.eventsAfter(cursor, filters, this.pageSize);
      if (page.length > 0) {
        cursor = progress.cursor = page.at(-1)!.id;
        yield page;
      }
      if (page.length === this.pageSize) continue;
      // Nothing was published before the query: everything is in the store, and whatever
      // is published from now on will reach the live queue.
      if (coveredBefore === null && this.coveredAfter === null) break;
      if (coveredBefore !== null) cursor = progress.cursor = Math.max(cursor, coveredBefore);
    }
  }

  private covers(cursor: number): boolean {
    return this.coveredAfter !== null && cursor >= this.coveredAfter;
  }

  private drop(subscriber: SubscriberQueue): void {
    this.subscribers.delete(subscriber);
    this.options.metrics?.droppedTotal.inc({ reason: 'live_slow_consumer' });
    this.options.metrics?.liveSubscribers.set(this.subscribers.size);
  }

  private queuedInAll(): number {
    let depth = 0;
    for (const subscriber of this.subscribers) depth += subscriber.depth;
    return depth;
  }

  /** Ends every subscription; later publishes reach nobody. */
  close(): void {
    this.closed = true;
    for (const subscriber of this.subscribers) subscriber.notify();
    this.subscribers.clear();
  }
}
