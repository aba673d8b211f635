import type { IngestItem, SourceInfo, Store, StoredEvent, WriteResult } from '../store/types';

export interface StoreBatcherOptions {
  /** Events wait at most this long before they are written. */
  flushIntervalMs?: number;
  /** A batch this large is written at once, without waiting for the interval. */
  maxBatch?: number;
  /** Told about every batch written: the live bus, metrics. */
  onWritten?: (result: WriteResult, latencyMs: number) => void;
  /** Told when a write fails; the batch is dropped and counted, the agent keeps running. */
  onError?: (error: Error, dropped: number) => void;
}

/** Anything that takes the events just stored: the live bus. */
export interface StoredEventSink {
  publish(events: StoredEvent[]): void;
}

/**
 * Collects events and writes them in batches, one transaction each, at least every
 * `flushIntervalMs`. Writes never overlap: a batch waits for the previous one. stop() writes
 * whatever is pending before it returns.
 */
export class StoreBatcher {
  private pending: IngestItem[] = [];
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly store: Store,
    private readonly source: SourceInfo,
    private readonly options: StoreBatcherOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 100;
    this.maxBatch = options.maxBatch ?? 5000;
  }

  /** Events waiting to be written. */
  get depth(): number {
    return this.pending.length;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  push(items: readonly IngestItem[]): void {
    for (const item of items) this.pending.push(item);
    if (this.pending.length >= this.maxBatch) void this.flush();
  }

  /** Writes what is pending; resolves when it (and every earlier batch) is stored. */
  flush(): Promise<void> {
    if (this.pending.length === 0) return this.writing;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(batch: IngestItem[]): Promise<void> {
    const start = performance.now();
    try {
      const result = await this.store.write(this.source, batch);
      this.options.onWritten?.(result, performance.now() - start);
    } catch (error) {
      this.options.onError?.(error as Error, batch.length);
    }
  }
}
