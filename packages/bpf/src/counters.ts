/** The sensor's counters: what the kernel dropped or failed, what user space received. */
import { Kind, layouts } from './layout';
import type { RecordKind } from './records';

export interface KindCounters {
  /** Records decoded and handed out. */
  received: number;
  /** Records the kernel could not reserve in the ring buffer: lost for good. */
  lost: number;
  /** Kernel helpers that failed while building records of this kind. */
  helperErrors: number;
}

export interface SensorCounters {
  received: number;
  lost: number;
  helperErrors: number;
  /** Records (or batch tails) the decoder could not read. */
  decodeErrors: number;
  batches: number;
  byKind: Record<RecordKind, KindCounters>;
}

const kindNames = Object.keys(Kind) as (keyof typeof Kind)[];

/**
 * Library loads travel as open records (pt_open with PT_FLAG_LIBRARY): the kernel counts their
 * losses and helper failures under `open`; `load` counts only what user space received.
 */
export function emptyKindCounters(): Record<RecordKind, KindCounters> {
  const byKind = {} as Record<RecordKind, KindCounters>;
  for (const kind of [...kindNames, 'load' as const]) {
    byKind[kind] = { received: 0, lost: 0, helperErrors: 0 };
  }
  return byKind;
}

/** Sums readCounters()'s per-CPU pt_counters into `byKind` (lost, helperErrors). */
export function addKernelCounters(perCpu: Buffer, byKind: Record<RecordKind, KindCounters>): void {
  const { size, fields } = layouts.pt_counters;
  for (let cpu = 0; cpu + size <= perCpu.length; cpu += size) {
    for (const kind of kindNames) {
      const index = Kind[kind] * 8;
      byKind[kind].lost += Number(perCpu.readBigUInt64LE(cpu + fields.drops + index));
      byKind[kind].helperErrors += Number(perCpu.readBigUInt64LE(cpu + fields.errors + index));
    }
  }
}
