import { parseTetragonEvent } from '@proctrail/schema';
import { storeAncestry, type Detector } from '../detection/detector';
import type { IngestItem, SourceInfo, Store } from '../store/types';
import { readInput, type InputRecord } from './read-input';

/** Events written per transaction: large enough to amortise the commit, small enough to stream. */
const BATCH_SIZE = 2000;

/** A line that was skipped, and why: the file, its line, the field when one is to blame. */
export interface SkippedLine {
  input: string;
  line: number;
  field?: string;
  reason: string;
}

export interface ImportSummary {
  inputs: string[];
  /** Lines (or values) read, blank lines aside. */
  read: number;
  stored: number;
  duplicates: number;
  byKind: Record<string, number>;
  skipped: SkippedLine[];
  /** Skipped lines beyond those kept in `skipped` (the list is capped). */
  skippedNotListed: number;
  /**
   * Events of the source whose process has no exec_id and matched no stored process by pid
   * and start time. While importing, those of this import so far; at the end, all of the
   * source's, since an event imported earlier can only be matched once its exec arrives.
   */
  unattributed: number;
  /** exec_id-less events given an exec_id at the end of this import, earlier imports' too. */
  attributedLater: number;
  collisions: string[];
  /** Detections stored by this import, by rule (none when no detector ran). */
  detections: Record<string, number>;
}

/** At most this many skipped lines are kept with their reasons; the rest are counted. */
const SKIPPED_LIST_LIMIT = 1000;

/**
 * Reads Tetragon exports and writes their events into a store under one source. A line that
 * is not JSON or not a valid event is skipped and reported; every other line is kept.
 * Throws InputError when an input cannot be read at all.
 */
export async function importInputs(
  store: Store,
  source: SourceInfo,
  inputs: string[],
  onProgress?: (summary: ImportSummary) => void,
  detector?: Detector,
): Promise<ImportSummary> {
  const summary: ImportSummary = {
    inputs,
    read: 0,
    stored: 0,
    duplicates: 0,
    byKind: {},
    skipped: [],
    skippedNotListed: 0,
    unattributed: 0,
    attributedLater: 0,
    collisions: [],
    detections: {},
  };
  const target: BatchTarget = { store, source, summary, detector };
  for (const input of inputs) {
    let batch: IngestItem[] = [];
    for await (const record of readInput(input)) {
      summary.read++;
      const item = toIngestItem(input, record, summary);
      if (item) batch.push(item);
      if (batch.length >= BATCH_SIZE) {
        await writeBatch(target, batch);
        batch = [];
        onProgress?.(summary);
      }
    }
    await writeBatch(target, batch);
  }
  const orphans = await store.attributeOrphans(source);
  summary.attributedLater = orphans.attributed;
  // Two hosts under one node name collide on every exec: name each exec_id once.
  summary.collisions = [...new Set(summary.collisions)];
  summary.unattributed = orphans.remaining;
  return summary;
}

function toIngestItem(
  input: string,
  record: InputRecord,
  summary: ImportSummary,
): IngestItem | undefined {
  if ('error' in record) {
    skip(summary, { input, line: record.line, reason: record.error });
    return undefined;
  }
  const outcome = parseTetragonEvent(record.value);
  if (!outcome.ok) {
    skip(summary, { input, line: record.line, ...outcome.problem });
    return undefined;
  }
  return { parsed: outcome.parsed, raw: record.value };
}

function skip(summary: ImportSummary, line: SkippedLine): void {
  if (summary.skipped.length < SKIPPED_LIST_LIMIT) summary.skipped.push(line);
  else summary.skippedNotListed++;
}

interface BatchTarget {
  store: Store;
  source: SourceInfo;
  summary: ImportSummary;
  detector: Detector | undefined;
}

async function writeBatch(target: BatchTarget, batch: IngestItem[]): Promise<void> {
  const { store, source, summary, detector } = target;
  if (batch.length === 0) return;
  const result = await store.write(source, batch);
  // After the write, so the store knows every process of the batch and its parents.
  const found = detector
    ? await detector.afterWrite(source, batch, result, storeAncestry(store, source))
    : [];
  for (const detection of found) {
    summary.detections[detection.rule] = (summary.detections[detection.rule] ?? 0) + 1;
  }
  summary.stored += result.stored;
  summary.duplicates += result.duplicates;
  summary.unattributed += result.unattributed;
  summary.collisions.push(...result.collisions);
  for (const [kind, n] of Object.entries(result.byKind)) {
    summary.byKind[kind] = (summary.byKind[kind] ?? 0) + n;
  }
}

/** Number of lines skipped in all. */
export function skippedCount(summary: ImportSummary): number {
  return summary.skipped.length + summary.skippedNotListed;
}
