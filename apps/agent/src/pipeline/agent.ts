import { hostname } from 'node:os';
import { startSensor, type Sensor, type SensorCounters, type SensorRecord } from '@proctrail/bpf';
import { toSortableTime } from '@proctrail/schema';
import type { Logger } from 'pino';
import type { Detector } from '../detection/detector';
import type { FileFactsCache } from '../inventory/facts-cache';
import { InventoryTracker, type InventoryCounters } from '../inventory/inventory-tracker';
import type { VulnerabilityRule } from '../inventory/vulnerability-rules';
import { BootClock } from '../process/clock';
import { ProcessCache } from '../process/process-cache';
import type { CompiledPolicies } from '../policy/compile';
import type { PodDirectory } from '../container/pod-directory';
import type { IngestItem, SourceInfo, Store, WriteResult } from '../store/types';
import type { BatchRules } from './batch-rules';
import { EventBuilder } from './event-builder';
import { restoredExecutions } from './restore';
import { StoreBatcher, type StoredEventSink } from './store-batcher';
import { WriteQueue, type WriteBacklog, type WriteQueueOptions } from './write-queue';

export interface AgentOptions {
  store: Store;
  logger: Logger;
  /** The node name in exec_ids and events; the host name by default. */
  nodeName?: string;
  /** Paths (and prefixes, ending in /) whose opens, reads and writes are recorded. */
  watchedPaths?: readonly string[];
  /** Attach `ancestors` to every event. */
  ancestors?: boolean;
  /** Pod metadata by container id (the cluster's API), when the agent runs in a cluster. */
  pods?: PodDirectory;
  /** Prevention policies to enforce in the kernel while the agent runs (compilePolicies). */
  policies?: Pick<CompiledPolicies, 'kernel' | 'summaries'>;
  /**
   * The software inventory: binary hashes and library loads, matched against these
   * vulnerable-version rules. On (without rules) unless false. `loaderEvents: 'all'` makes
   * every library load a process_loader event, not only the vulnerable ones. `facts` shares a
   * hash cache between agents (benchmarks).
   */
  inventory?:
    | false
    | {
        rules: readonly VulnerabilityRule[];
        loaderEvents?: 'vulnerable' | 'all';
        facts?: FileFactsCache;
      };
  /**
   * Keeps events through a store outage: in memory, then in spill files, up to these bounds
   * (see WriteQueue). Without it a failed write drops its batch.
   */
  writeQueue?: Pick<WriteQueueOptions, 'memoryEvents' | 'spillBytes' | 'spillDir'>;
  /** Where stored events go next: the live bus. */
  sink?: StoredEventSink;
  /** Told about the events built from each sensor batch, before they are stored: metrics. */
  onBuilt?: (items: readonly IngestItem[]) => void;
  /** Told about every batch stored, with its latency: metrics. */
  onWritten?: (result: WriteResult, latencyMs: number) => void;
  /**
   * Detection rules: they run on every batch before it commits, with the process cache's
   * ancestry (parent first), and are told of the detections stored with it.
   */
  rules?: Pick<Detector, 'find' | 'discard' | 'stored'>;
}

/** Ancestors the rules are given, at most. */
const ANCESTRY_LIMIT = 32;

/** What the agent has done since it started. */
export interface AgentCounters {
  sensor: SensorCounters;
  /** Events stored, and events lost because a store write failed. */
  stored: number;
  storeFailures: number;
  /** Events waiting to be written. */
  queueDepth: number;
  /** Executions the process cache holds. */
  cachedExecutions: number;
  /** What waits for the store and what was dropped; absent without a write queue. */
  backlog?: WriteBacklog;
  /** The software inventory's loads and hashes; absent when it is off. */
  inventory?: InventoryCounters & { filesHashed: number; hashCacheHits: number };
}

/**
 * The live pipeline: sensor records become Tetragon events about whole processes (through the
 * process cache), which are written to the store in batches and handed to the live bus.
 */
export class Agent {
  private constructor(
    readonly nodeName: string,
    private readonly written: { stored: number; storeFailures: number },
    readonly source: SourceInfo,
    private readonly sensor: Sensor,
    private readonly cache: ProcessCache,
    private readonly batcher: StoreBatcher | WriteQueue,
    private readonly logger: Logger,
    private readonly inventory: InventoryTracker | undefined,
  ) {}

  static async start(options: AgentOptions): Promise<Agent> {
    const nodeName = options.nodeName ?? hostname();
    const logger = options.logger.child({ stage: 'pipeline' });
    const store = options.store;
    const source = await store.source(`agent:${nodeName}`, 'agent');
    const clock = new BootClock();
    const cache = new ProcessCache(nodeName);
    const builder = new EventBuilder(cache, clock, {
      nodeName,
      ancestors: options.ancestors,
      policies: options.policies?.summaries,
      pods: options.pods,
    });

    const written = { stored: 0, storeFailures: 0 };
    const onWritten = (result: WriteResult, latencyMs: number) => {
      written.stored += result.stored;
      options.sink?.publish(result.events);
      options.onWritten?.(result, latencyMs);
      options.rules?.stored(result.detections);
    };
    const rules: BatchRules | undefined = options.rules && {
      find: (items, result) =>
        options.rules!.find(items, result, (process) => {
          const parent = cache.byId(process.parent_exec_id);
          return parent ? [parent.process, ...cache.ancestorsOf(parent, ANCESTRY_LIMIT - 1)] : [];
        }),
      discard: (findings) => options.rules!.discard(findings),
    };
    const batcher = options.writeQueue
      ? new WriteQueue(store, source, {
          ...options.writeQueue,
          onWritten,
          rules,
          ...queueLog(logger),
        })
      : new StoreBatcher(store, source, {
          onWritten,
          rules,
          onError: (error, dropped) => {
            written.storeFailures += dropped;
            logger.error({ err: error, dropped }, 'store write failed; batch dropped');
          },
        });

    // Attach first, then read /proc: a process is in the snapshot, or seen starting, or both.
    const sensor = await startSensor({
      watchedPaths: options.watchedPaths,
      policies: options.policies?.kernel,
      hooks: { loads: options.inventory !== false },
    });
    if (options.inventory !== false && !store.writeSoftwareLoads) {
      logger.warn('this store keeps no library loads: the inventory has executables only');
    }
    const inventory =
      options.inventory === false
        ? undefined
        : new InventoryTracker(cache, builder, {
            nodeName,
            rules: options.inventory?.rules ?? [],
            loaderEvents: options.inventory?.loaderEvents,
            facts: options.inventory?.facts,
            emit: (items) => batcher.push(items),
            writeLoads: async (rows) => {
              try {
                await store.writeSoftwareLoads?.(source, rows);
              } catch (error) {
                logger.error({ err: error, dropped: rows.length }, 'library loads not stored');
              }
            },
          });
    const foundGoneAt = toSortableTime(new Date().toISOString())!;
    const running = await store.runningExecutions(source);
    const restored = restoredExecutions(sensor.snapshot, running, clock);
    // What the previous run saw start and not end, and is not running now, ended unseen.
    const stillRunning = new Set([...restored.values()].map((process) => process.exec_id));
    const gone = running.filter((process) => !stillRunning.has(process.exec_id));
    const endedUnseen = await store.endUnseen(
      source,
      gone.map((process) => process.exec_id!),
      foundGoneAt,
    );
    batcher.push(builder.seed(sensor.snapshot, restored));
    const agent = new Agent(nodeName, written, source, sensor, cache, batcher, logger, inventory);

    sensor.on('batch', (records: SensorRecord[]) => {
      const items: IngestItem[] = [];
      for (const record of records) {
        if (record.kind === 'load') {
          inventory?.load(record);
          continue;
        }
        const built = builder.build(record);
        if (record.kind === 'exec') inventory?.annotateExecs(built, record.binaryIdentity);
        items.push(...built);
      }
      options.onBuilt?.(items);
      batcher.push(items);
    });
    sensor.on('error', (error) => logger.error({ err: error }, 'building events failed'));
    logger.info(
      { node: nodeName, snapshot: sensor.snapshot.length, restored: restored.size, endedUnseen },
      'agent started',
    );
    for (const policy of options.policies?.summaries ?? []) {
      logger.info({ policy: policy.name, mode: policy.mode, on: policy.on }, 'policy in force');
    }
    return agent;
  }

  counters(): AgentCounters {
    return {
      sensor: this.sensor.counters(),
      stored: this.written.stored,
      storeFailures: this.written.storeFailures,
      queueDepth: this.batcher.depth,
      cachedExecutions: this.cache.size,
      ...(this.batcher instanceof WriteQueue && { backlog: this.batcher.backlog() }),
      ...(this.inventory && {
        inventory: {
          ...this.inventory.counters,
          filesHashed: this.inventory.facts.counters.hashed,
          hashCacheHits: this.inventory.facts.counters.hits,
        },
      }),
    };
  }

  /**
   * Stops the hooks, then writes every event already received before it resolves: a SIGTERM
   * loses nothing the kernel had handed over.
   */
  get stopped(): boolean {
    return this.sensor.stopped;
  }

  async stop(): Promise<void> {
    if (this.sensor.stopped) return;
    await this.sensor.settle(50, 1000);
    this.sensor.stop();
    await this.inventory?.settled();
    await this.batcher.stop();
    this.logger.info(
      { stored: this.written.stored, lost: this.sensor.counters().lost },
      'agent stopped',
    );
  }
}

/** How often, at most, the write queue logs that it dropped events. */
const DROP_LOG_INTERVAL_MS = 10_000;

/** The write queue's log: warn when the store goes and events are dropped, info when it is back. */
function queueLog(logger: Logger): Partial<WriteQueueOptions> {
  let droppedSinceLog = 0;
  let lastDropLogMs = 0;
  return {
    onStoreDown: (error, backlog) =>
      logger.warn({ err: error, backlog }, 'store unreachable; events wait in the write queue'),
    onStoreBack: (backlog, downMs) =>
      logger.info({ downMs, backlog }, 'store reachable again; writing the backlog'),
    onDropped: (reason, count, error) => {
      droppedSinceLog += count;
      if (Date.now() - lastDropLogMs < DROP_LOG_INTERVAL_MS) return;
      logger.warn({ reason, dropped: droppedSinceLog, err: error }, 'events dropped');
      droppedSinceLog = 0;
      lastDropLogMs = Date.now();
    },
  };
}
