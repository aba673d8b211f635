import type { WriteResult } from '../types';

/**
 * How far a stored process's start time may be from an exec_id-less event's to be taken as its
 * process (attributeOrphans): 10 ms, the precision Tetragon's start times survive exports at.
 */
export const ORPHAN_START_TOLERANCE_NS = 10_000_000n;

/** What a batch changed before any of it is written. */
export function emptyWriteResult(): WriteResult {
  return {
    events: [],
    stored: 0,
    duplicates: 0,
    byKind: {},
    unattributed: 0,
    collisions: [],
    detections: [],
  };
}
