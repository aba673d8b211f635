import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Binaries are unbounded (every build directory, every /tmp/xyz dropper): past this many
 * distinct values the binary label becomes "other", so one noisy host cannot grow the
 * registry, and Prometheus with it, without end.
 */
export const MAX_BINARY_LABELS = 500;

/**
 * The agent's Prometheus metrics, defined once and registered on a registry the caller owns:
 * the API server serves that registry at /metrics, the sensor pipeline counts into it.
 */
export interface AgentMetrics {
  registry: Registry;
  /** Events stored, by Tetragon kind, binary and node. */
  eventsTotal: Counter<'type' | 'binary' | 'node'>;
  /** Events the sensor lost before they were stored, by reason (ringbuf, queue, decode, ...). */
  lostEventsTotal: Counter<'reason'>;
  /** Events or subscribers dropped on purpose, by what dropped them (live_slow_consumer, ...). */
  droppedTotal: Counter<'reason'>;
  /** Items waiting in each queue of the pipeline and the live bus. */
  queueDepth: Gauge<'queue'>;
  /** How long a store batch write took, in seconds. */
  storeBatchSeconds: Histogram<'store'>;
  liveSubscribers: Gauge;
  /** Events waiting for the store, in memory and in spill files (the write queue). */
  storeBacklogEvents: Gauge<'where'>;
  storeBacklogSpillBytes: Gauge;
  /** Age of the oldest event waiting for the store, in seconds; 0 when none waits. */
  storeBacklogOldestSeconds: Gauge;
  /** 1 while the store takes writes, 0 while the write queue retries. */
  storeReachable: Gauge;
  storeWriteRetriesTotal: Counter;
  /** Detections stored, by rule and severity. */
  detectionsTotal: Counter<'rule' | 'severity'>;
  /**
   * Prevention policies' enforcements, by policy, Tetragon action (KPROBE_ACTION_SIGKILL,
   * _OVERRIDE, _POST) and outcome (blocked, dry-run, alert).
   */
  enforcementsTotal: Counter<'policy' | 'action' | 'outcome'>;
  /** The binary label for a binary path, "other" once MAX_BINARY_LABELS are in use. */
  binaryLabel(binary: string | undefined): string;
}

export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  const binaries = new Set<string>();
  return {
    registry,
    eventsTotal: new Counter({
      name: 'proctrail_events_total',
      help: 'Events stored, by Tetragon event type, binary and node',
      labelNames: ['type', 'binary', 'node'],
      registers,
    }),
    lostEventsTotal: new Counter({
      name: 'proctrail_lost_events_total',
      help: 'Events the sensor lost before they reached the store, by reason',
      labelNames: ['reason'],
      registers,
    }),
    droppedTotal: new Counter({
      name: 'proctrail_dropped_total',
      help: 'Events or live subscribers dropped on purpose, by reason',
      labelNames: ['reason'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'proctrail_queue_depth',
      help: 'Items waiting in a queue of the pipeline or the live bus',
      labelNames: ['queue'],
      registers,
    }),
    storeBatchSeconds: new Histogram({
      name: 'proctrail_store_batch_seconds',
      help: 'Time to write one batch of events to the store, in seconds',
      labelNames: ['store'],
      // From 0.5 ms (a handful of events) to 2.5 s (a stalled disk).
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    liveSubscribers: new Gauge({
      name: 'proctrail_live_subscribers',
      help: 'Clients following the live event stream',
      registers,
    }),
    storeBacklogEvents: new Gauge({
      name: 'proctrail_store_backlog_events',
      help: 'Events waiting for the store, in memory or in spill files',
      labelNames: ['where'],
      registers,
    }),
    storeBacklogSpillBytes: new Gauge({
      name: 'proctrail_store_backlog_spill_bytes',
      help: 'Bytes of spill files holding events that wait for the store',
      registers,
    }),
    storeBacklogOldestSeconds: new Gauge({
      name: 'proctrail_store_backlog_oldest_seconds',
      help: 'Age of the oldest event waiting for the store, in seconds',
      registers,
    }),
    storeReachable: new Gauge({
      name: 'proctrail_store_reachable',
      help: '1 while the store takes writes, 0 while writes are retried',
      registers,
    }),
    storeWriteRetriesTotal: new Counter({
      name: 'proctrail_store_write_retries_total',
      help: 'Failed store writes that the write queue retried or gave up',
      registers,
    }),
    detectionsTotal: new Counter({
      name: 'proctrail_detections_total',
      help: 'Detections stored, by rule and severity',
      labelNames: ['rule', 'severity'],
      registers,
    }),
    enforcementsTotal: new Counter({
      name: 'proctrail_enforcements_total',
      help: 'Processes killed and connects refused (or, dry-run and alert, reported) by policies',
      labelNames: ['policy', 'action', 'outcome'],
      registers,
    }),
    binaryLabel(binary) {
      const value = binary ?? '';
      if (binaries.has(value)) return value;
      if (binaries.size >= MAX_BINARY_LABELS) return 'other';
      binaries.add(value);
      return value;
    },
  };
}
