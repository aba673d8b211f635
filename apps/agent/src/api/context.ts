import type { Logger } from 'pino';
import type { LostEvents } from '@proctrail/schema';
import type { DetectionBus } from '../detection/detection-bus';
import type { LiveBus } from '../live/live-bus';
import type { PolicyRegistry } from '../policy/policy-registry';
import type { WriteBacklog } from '../pipeline/write-queue';
import type { Store } from '../store/types';

/**
 * What the sensor pipeline reports to the API about itself. The pipeline implements it; a
 * database served without a sensor has none, and stats.summary then says `lost: null`.
 */
export interface PipelineStatsProvider {
  /** Events lost so far, by reason (ringbuf, queue, decode, ...). Called per request: keep cheap. */
  lostEvents(): LostEvents;
  /** What waits for the store (the write queue), for /healthz; absent without one. */
  backlog?(): WriteBacklog | undefined;
}

/** What every procedure may use; built once per server, shared by all requests. */
export interface ApiContext {
  store: Store;
  bus: LiveBus;
  /** Detections as they are stored; absent when no rules run (a database served alone). */
  detections: DetectionBus | undefined;
  stats: PipelineStatsProvider | undefined;
  /** The prevention policies in force; absent when the agent enforces none. */
  policies?: Pick<PolicyRegistry, 'list'>;
  logger: Logger;
}
