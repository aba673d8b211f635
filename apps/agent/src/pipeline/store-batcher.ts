import type { IngestItem, SourceInfo, Store, StoredEvent, WriteResult } from '../store/types';

export interface StoreBatcherOptions {
  /** Told about every batch written, with the items it was made of: live bus, metrics, rules. */
  onWritten?: (result: WriteResult, latencyMs: number, batch: readonly IngestItem[]) => void;
  /** Told when a write fails; the batch is dropped and counted, the agent keeps running. */
  onError?: (error: Error, dropped: number) => void;
}

/** Anything that takes the events just stored: the live bus. */
export interface StoredEventSink {
  publish(events: StoredEvent[]): void;
}

/**
 * Collects events and writes them in batches, one transaction each. A write is scheduled as
 * soon as events arrive (on the next turn of the event loop), so a lone exec is stored and
 * streamed within milliseconds; under load, whatever arrives while a write runs makes up the
 * next batch, so batches grow with the rate. stop() writes whatever is pending.
 */
export class StoreBatcher {
  private pending: IngestItem[] = [];
  private writing: Promise<void> = Promise.resolve();
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly store: Store,
    private readonly source: SourceInfo,
    private readonly options: StoreBatcherOptions = {},
  ) {}

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
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  async stop(): Promise<void> {
    await this.flush();
  }

  private async write(batch: IngestItem[]): Promise<void> {
    const start = performance.now();
    try {
      const result = await this.store.write(this.source, batch);
      this.options.onWritten?.(result, performance.now() - start, batch);
    } catch (error) {
      this.options.onError?.(error as Error, batch.length);
    }
  }
}
