import type { IngestItem, SourceInfo, Store, StoredEvent, WriteResult } from '../store/types';
import { writeBatchWithRules, type BatchRules } from './batch-rules';

export interface StoreBatcherOptions {
  /** Events per transaction at most (see MAX_TRANSACTION_EVENTS). */
  maxTransactionEvents?: number;
  /** Told about every batch written, with the items it was made of: live bus, metrics. */
  onWritten?: (result: WriteResult, latencyMs: number, batch: readonly IngestItem[]) => void;
  /** Told when a write fails; the batch is dropped and counted, the agent keeps running. */
  onError?: (error: Error, dropped: number) => void;
  /** Detection rules run on each batch before it commits. */
  rules?: BatchRules;
}

/** Anything that takes the events just stored: the live bus. */
export interface StoredEventSink {
  publish(events: StoredEvent[]): void;
}

/**
 * Events per transaction by default. SQLite writes synchronously on the event loop: a
 * transaction of 10,000 events held it for half a second, in which no sensor batch was read
 * and no live event sent. A thousand keeps a write to tens of milliseconds, and a turn of the
 * loop between transactions lets the sensor and the WebSocket run; measured with
 * apps/agent/bench/live.bench.ts, the rate stays the same.
 */
export const MAX_TRANSACTION_EVENTS = 1_000;

/**
 * Collects events and writes them in batches, one transaction each. A write is scheduled as
 * soon as events arrive (on the next turn of the event loop), so a lone exec is stored and
 * streamed within milliseconds; under load, whatever arrives while a write runs makes up the
 * next batch, so batches grow with the rate, up to maxTransactionEvents, with a turn of the
 * event loop between two transactions. stop() writes whatever is pending.
 */
export class StoreBatcher {
  private pending: IngestItem[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly store: Store,
    private readonly source: SourceInfo,
    private readonly options: StoreBatcherOptions = {},
  ) {
    this.maxTransactionEvents = options.maxTransactionEvents ?? MAX_TRANSACTION_EVENTS;
  }

  private readonly maxTransactionEvents: number;

  /** Events waiting to be written. */
  get depth(): number {
    return this.pending.length;
  }

  push(items: readonly IngestItem[]): void {
    for (const item of items) this.pending.push(item);
    if (this.pending.length > 0 && !this.scheduled) {
      this.scheduled = setImmediate(() => void this.flush());
    }
  }

  /** Writes what is pending; resolves when it (and every earlier batch) is stored. */
  flush(): Promise<void> {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.pending.length === 0) return this.writing;
    this.writing = this.writing.then(() => this.drain());
    return this.writing;
  }

  /** Writes the pending events a transaction at a time, letting the event loop turn between. */
  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      let batch = this.pending;
      if (batch.length > this.maxTransactionEvents) {
        batch = this.pending.slice(0, this.maxTransactionEvents);
        this.pending = this.pending.slice(this.maxTransactionEvents);
      } else {
        this.pending = [];
      }
      await this.write(batch);
      if (this.pending.length > 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async stop(): Promise<void> {
    await this.flush();
  }

  private async write(batch: IngestItem[]): Promise<void> {
    const start = performance.now();
    try {
      const result = await writeBatchWithRules(this.store, this.source, batch, this.options.rules);
      this.options.onWritten?.(result, performance.now() - start, batch);
    } catch (error) {
      this.options.onError?.(error as Error, batch.length);
    }
  }
}
