/**
 * The software inventory's part of the live pipeline: hashes of executed binaries and the
 * libraries processes load.
 *
 * - Exec events get `process.binary_hash` at once when the binary's identity is cached (one
 *   stat). Otherwise the binary is hashed in the facts queue and the hash arrives as a
 *   process_loader event with role "executable"; later events of that process carry it too.
 * - Library loads become one process_loader event per (execution, path), after their file is
 *   hashed, with its build-id, version facts and the advisories of the vulnerable-version rules
 *   it matches.
 * Files are read through /proc/<pid>/exe and /proc/<pid>/root while the process lives (the
 * very file it ran, even deleted, a memfd, or in another mount namespace), else by path.
 */
import type { LoadRecord } from '@proctrail/bpf';
import type { TetragonProcess } from '@proctrail/schema';
import type { EventBuilder } from '../pipeline/event-builder';
import type { ProcessCache } from '../process/process-cache';
import type { IngestItem } from '../store/types';
import { FileFactsCache } from './facts-cache';
import { FileFactsError, type FileFacts } from './file-facts';
import { softwareOf } from './software';
import { vulnerabilitiesOf, type VulnerabilityRule } from './vulnerability-rules';

/** (execution, path) pairs remembered for deduplication; cleared whole when full. */
const SEEN_LOADS_MAX = 200_000;

export interface InventoryCounters {
  loads: number;
  duplicateLoads: number;
  /** Loads by a pid the process cache did not know. */
  unattributedLoads: number;
  execHashesAtOnce: number;
  execHashesLater: number;
  unhashed: number;
}

export class InventoryTracker {
  private readonly seenLoads = new Set<string>();
  /** Hashes not finished yet: stop() waits for them, so that their events are stored. */
  private readonly outstanding = new Set<Promise<unknown>>();
  readonly counters: InventoryCounters = {
    loads: 0,
    duplicateLoads: 0,
    unattributedLoads: 0,
    execHashesAtOnce: 0,
    execHashesLater: 0,
    unhashed: 0,
  };

  constructor(
    private readonly cache: ProcessCache,
    private readonly builder: EventBuilder,
    private readonly rules: readonly VulnerabilityRule[],
    /** Where the events made later (after hashing) go: the store batcher. */
    private readonly emit: (items: IngestItem[]) => void,
    readonly facts: FileFactsCache = new FileFactsCache(),
  ) {}

  /** Resolves when every file queued so far is hashed and its event emitted. */
  async settled(): Promise<void> {
    while (this.outstanding.size > 0) await Promise.allSettled([...this.outstanding]);
  }

  private track(work: Promise<unknown>): void {
    this.outstanding.add(work);
    void work.finally(() => this.outstanding.delete(work));
  }

  /** Gives this batch's exec events their binary's hash, or queues the binary for hashing. */
  annotateExecs(items: readonly IngestItem[]): void {
    for (const item of items) {
      if (item.parsed.kind !== 'process_exec') continue;
      const process = (item.parsed.body as { process?: TetragonProcess }).process;
      if (!process?.binary || !process.pid || !process.exec_id) continue;
      const paths = this.binaryPaths(process);
      const known = this.facts.cached(paths);
      if (known) {
        process.binary_hash = hashOf(known);
        this.counters.execHashesAtOnce++;
        continue;
      }
      this.hashLater(process, paths, item.parsed.envelope.time ?? this.builder.timeOf(0n));
    }
  }

  /** A library load from the sensor: once per execution and path. */
  load(record: LoadRecord): void {
    const entry = this.cache.current(record.pid);
    if (!entry) {
      this.counters.unattributedLoads++;
      return;
    }
    const key = `${entry.execId}\0${record.path}`;
    if (this.seenLoads.has(key)) {
      this.counters.duplicateLoads++;
      return;
    }
    if (this.seenLoads.size >= SEEN_LOADS_MAX) this.seenLoads.clear();
    this.seenLoads.add(key);
    this.counters.loads++;

    const paths = [`/proc/${record.pid}/root${record.path}`, record.path];
    this.track(
      this.facts.describe(paths, record.path).then(
        (facts) => this.emit([this.loaderItem(entry, record, facts)]),
        (error: unknown) => {
          this.counters.unhashed++;
          this.emit([this.loaderItem(entry, record, undefined, reasonOf(error))]);
        },
      ),
    );
  }

  private binaryPaths(process: TetragonProcess): string[] {
    const exe = `/proc/${process.pid}/exe`;
    // A deleted binary or a memfd has no path to fall back on: only the process's own link.
    return process.binary_properties?.file ? [exe] : [exe, process.binary!];
  }

  private hashLater(process: TetragonProcess, paths: string[], time: string): void {
    const entry = this.cache.byId(process.exec_id);
    this.track(
      this.facts.describe(paths, process.binary!).then(
        (facts) => {
          this.counters.execHashesLater++;
          process.binary_hash = hashOf(facts);
          if (entry) this.emit([this.executableItem(entry, process, time, hashOf(facts))]);
        },
        (error: unknown) => {
          this.counters.unhashed++;
          const hash = { error: reasonOf(error) };
          process.binary_hash = hash;
          if (entry) this.emit([this.executableItem(entry, process, time, hash)]);
        },
      ),
    );
  }

  private executableItem(
    entry: Parameters<EventBuilder['loaderEvent']>[0],
    process: TetragonProcess,
    time: string,
    hash: TetragonProcess['binary_hash'],
  ): IngestItem {
    const payload: Record<string, unknown> = { path: process.binary, role: 'executable', hash };
    if (hash?.build_id) payload.buildid = Buffer.from(hash.build_id, 'hex').toString('base64');
    return this.builder.loaderEvent(entry, time, payload);
  }

  private loaderItem(
    entry: Parameters<EventBuilder['loaderEvent']>[0],
    record: LoadRecord,
    facts: FileFacts | undefined,
    error?: string,
  ): IngestItem {
    const time = this.builder.timeOf(record.ktimeNs);
    const payload: Record<string, unknown> = { path: record.path };
    if (!facts) {
      payload.hash = { error };
      return this.builder.loaderEvent(entry, time, payload);
    }
    if (facts.buildId) payload.buildid = Buffer.from(facts.buildId, 'hex').toString('base64');
    payload.hash = hashOf(facts);
    const software = softwareOf(record.path, facts);
    if (software) {
      payload.software = software;
      const matched = vulnerabilitiesOf(
        {
          names: [software.name, software.title, software.bundle_name, software.soname].filter(
            (name): name is string => !!name,
          ),
          version: software.version,
        },
        this.rules,
      );
      if (matched.length) payload.advisories = [...new Set(matched.flatMap((r) => r.advisories))];
    }
    return this.builder.loaderEvent(entry, time, payload);
  }
}

function hashOf(facts: FileFacts): NonNullable<TetragonProcess['binary_hash']> {
  const hash: NonNullable<TetragonProcess['binary_hash']> = {
    sha256: facts.sha256,
    size: String(facts.size),
  };
  if (facts.buildId) hash.build_id = facts.buildId;
  return hash;
}

function reasonOf(error: unknown): string {
  return error instanceof FileFactsError ? error.reason : 'unreadable';
}
