/**
 * The software inventory's part of the live pipeline: hashes of executed binaries and the
 * libraries processes load.
 *
 * - Exec events get `process.binary_hash` at once when the binary's identity is cached.
 *   Otherwise the binary is hashed in the facts queue and the hash arrives as a
 *   process_loader event with role "executable"; later events of that process carry it too.
 * - Identities (device, inode, modification time, size) come from the sensor's records, read
 *   by the kernel from the inode it exec'd or opened: a build's thousands of execs and loads
 *   of files already hashed cost no system call at all. Only a record without one (the
 *   kernel could not read it) costs a stat, of /proc/<pid>/exe or of the library's path.
 * - Library loads, once per (execution, path), become inventory rows (Store.writeSoftwareLoads)
 *   with the file's hash, build-id, version facts and the advisories of the vulnerable-version
 *   rules it matches. Why rows, not an event per load: a build starts thousands of short
 *   processes that each load the same few libraries, and a full event per load (process,
 *   parent, JSON, digest) cost the host far more than a row. A library that matches a rule
 *   also becomes a process_loader event (the detection's evidence, the live tail); with
 *   `loaderEvents: 'all'` every load does, as Tetragon's loader sensor reports them.
 * Files are read through /proc/<pid>/exe and, for a process in another mount namespace,
 * /proc/<pid>/root while the process lives (the file it ran even when deleted or a memfd),
 * else by path. Hashing is queued.
 */
import { readlinkSync } from 'node:fs';
import type { FileIdentity, LoadRecord } from '@proctrail/bpf';
import type { TetragonProcess } from '@proctrail/schema';
import type { EventBuilder } from '../pipeline/event-builder';
import type { CachedExecution, ProcessCache } from '../process/process-cache';
import type { IngestItem, SoftwareLoadRow } from '../store/types';
import { FileFactsCache } from './facts-cache';
import { FileFactsError, identityOf, type FileFacts } from './file-facts';
import { softwareOf, type SoftwareFacts } from './software';
import { vulnerabilitiesOf, type VulnerabilityRule } from './vulnerability-rules';

/** (execution, path) pairs remembered for deduplication; cleared whole when full. */
const SEEN_LOADS_MAX = 200_000;

/**
 * Library load rows wait up to this long, or until this many are waiting, and are then written
 * in one transaction. Why not at once: a build's processes load a few libraries each, and a
 * SQLite commit per sensor batch (hundreds a build, each writing the pages of every index of
 * software_loads) held the agent's thread about 1 ms each; measured apart, 2,128 rows took 38
 * to 59 ms of CPU at 8 a transaction and 15 ms in one. Inventory queries see a load up to this
 * much later; stop() and settled() write what waits at once.
 */
const LOAD_FLUSH_DELAY_MS = 250;
const LOAD_FLUSH_ROWS = 2000;

export interface InventoryCounters {
  loads: number;
  duplicateLoads: number;
  /** Loads by a pid the process cache did not know. */
  unattributedLoads: number;
  execHashesAtOnce: number;
  execHashesLater: number;
  unhashed: number;
}

export interface InventoryTrackerOptions {
  nodeName: string;
  rules: readonly VulnerabilityRule[];
  /** Where events made after hashing go: the store batcher. */
  emit: (items: IngestItem[]) => void;
  /** Where library load rows go, a batch at a time. */
  writeLoads: (rows: SoftwareLoadRow[]) => Promise<void>;
  /** Which library loads also become process_loader events. Default: vulnerable ones. */
  loaderEvents?: 'vulnerable' | 'all';
  facts?: FileFactsCache;
}

/** What a file is, derived once per file identity. */
interface Derived {
  software?: SoftwareFacts;
  advisories: string[];
}

export class InventoryTracker {
  private readonly seenLoads = new Set<string>();
  private readonly derived = new WeakMap<FileFacts, Derived>();
  /** Hashes and writes not finished yet: stop() waits for them. */
  private readonly outstanding = new Set<Promise<unknown>>();
  private pendingRows: SoftwareLoadRow[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  readonly facts: FileFactsCache;
  private readonly ownMountNamespace = readOwnMountNamespace();
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
    private readonly options: InventoryTrackerOptions,
  ) {
    this.facts = options.facts ?? new FileFactsCache();
  }

  /** Resolves when every file queued so far is hashed, and its event and row handed on. */
  async settled(): Promise<void> {
    while (this.outstanding.size > 0 || this.pendingRows.length > 0) {
      if (this.pendingRows.length > 0) this.flush();
      await Promise.allSettled([...this.outstanding]);
    }
  }

  /**
   * Gives these exec events their binary's hash, or queues the binary for hashing.
   * `binaryIdentity`: the executable's identity as the exec record carries it, when `items`
   * are the events of that one record.
   */
  annotateExecs(items: readonly IngestItem[], binaryIdentity?: FileIdentity): void {
    for (const item of items) {
      if (item.parsed.kind !== 'process_exec') continue;
      const process = (item.parsed.body as { process?: TetragonProcess }).process;
      if (!process?.binary || !process.pid || !process.exec_id) continue;
      const paths = binaryPaths(process);
      const identity = binaryIdentity && identityOf(statsOf(binaryIdentity));
      const known = this.facts.cached(paths, { identity });
      if (known) {
        process.binary_hash = hashOf(known);
        this.counters.execHashesAtOnce++;
        continue;
      }
      const time = item.parsed.envelope.time ?? this.builder.timeOf(0n);
      this.hashLater(process, paths, time, identity);
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

    const paths = this.seesOtherFiles(entry)
      ? [`/proc/${record.pid}/root${record.path}`, record.path]
      : [record.path];
    const identity = record.identity && identityOf(statsOf(record.identity));
    const known = this.facts.cached(paths, { trustRecent: true, identity });
    if (known) {
      this.recordLoad(entry, record, known);
      return;
    }
    this.track(
      this.facts.describe(paths, record.path, identity).then(
        (facts) => this.recordLoad(entry, record, facts),
        (error: unknown) => {
          this.counters.unhashed++;
          this.recordLoad(entry, record, undefined, reasonOf(error));
        },
      ),
    );
  }

  /**
   * Whether a process's paths may name other files than the agent's own: it is in another mount
   * namespace than the agent. Judged by the agent's own namespace, not by pid 1's (is_host):
   * where pid 1's cannot be read (a sandbox, some containers), every process is "not the
   * host's", and each of its loads cost a stat through /proc/<pid>/root, which is never cached.
   */
  private seesOtherFiles(entry: CachedExecution): boolean {
    const mnt = entry.process.ns?.mnt;
    if (this.ownMountNamespace !== undefined && mnt?.inum !== undefined) {
      return mnt.inum !== this.ownMountNamespace;
    }
    return mnt?.is_host === false;
  }

  private track(work: Promise<unknown>): void {
    this.outstanding.add(work);
    void work.finally(() => this.outstanding.delete(work));
  }

  private derive(path: string, facts: FileFacts): Derived {
    let found = this.derived.get(facts);
    if (found) return found;
    const software = softwareOf(path, facts);
    const names = [software?.name, software?.title, software?.bundle_name, software?.soname];
    const matched = vulnerabilitiesOf(
      { names: names.filter((n): n is string => !!n), version: software?.version },
      this.options.rules,
    );
    found = { software, advisories: [...new Set(matched.flatMap((r) => r.advisories))] };
    this.derived.set(facts, found);
    return found;
  }

  private recordLoad(
    entry: CachedExecution,
    record: LoadRecord,
    facts: FileFacts | undefined,
    error?: string,
  ): void {
    const derived = facts ? this.derive(record.path, facts) : { advisories: [] };
    const time = this.builder.timeOf(record.ktimeNs);
    const row: SoftwareLoadRow = {
      execId: entry.execId,
      nodeName: this.options.nodeName,
      time,
      role: 'library',
      path: record.path,
      sha256: facts?.sha256,
      buildId: facts?.buildId,
      name: derived.software?.name,
      version: derived.software?.version,
      soname: facts?.soname,
      error,
      advisories: derived.advisories,
    };
    this.pendingRows.push(row);
    if (this.pendingRows.length >= LOAD_FLUSH_ROWS) this.flush();
    else this.scheduleFlush();
    if (derived.advisories.length > 0 || this.options.loaderEvents === 'all') {
      this.options.emit([this.loaderItem(entry, time, record.path, facts, derived, error)]);
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => this.flush(), LOAD_FLUSH_DELAY_MS);
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pendingRows.length === 0) return;
    const rows = this.pendingRows;
    this.pendingRows = [];
    this.track(this.options.writeLoads(rows));
  }

  private hashLater(
    process: TetragonProcess,
    paths: string[],
    time: string,
    identity: string | undefined,
  ): void {
    const entry = this.cache.byId(process.exec_id);
    const done = (hash: NonNullable<TetragonProcess['binary_hash']>) => {
      process.binary_hash = hash;
      if (entry) this.options.emit([this.executableItem(entry, process, time, hash)]);
    };
    this.track(
      this.facts.describe(paths, process.binary!, identity).then(
        (facts) => {
          this.counters.execHashesLater++;
          done(hashOf(facts));
        },
        (error: unknown) => {
          this.counters.unhashed++;
          done({ error: reasonOf(error) });
        },
      ),
    );
  }

  private executableItem(
    entry: CachedExecution,
    process: TetragonProcess,
    time: string,
    hash: NonNullable<TetragonProcess['binary_hash']>,
  ): IngestItem {
    const payload: Record<string, unknown> = { path: process.binary, role: 'executable', hash };
    if (hash.build_id) payload.buildid = Buffer.from(hash.build_id, 'hex').toString('base64');
    return this.builder.loaderEvent(entry, time, payload);
  }

  private loaderItem(
    entry: CachedExecution,
    time: string,
    path: string,
    facts: FileFacts | undefined,
    derived: Derived,
    error: string | undefined,
  ): IngestItem {
    const payload: Record<string, unknown> = { path };
    if (!facts) {
      payload.hash = { error };
      return this.builder.loaderEvent(entry, time, payload);
    }
    if (facts.buildId) payload.buildid = Buffer.from(facts.buildId, 'hex').toString('base64');
    payload.hash = hashOf(facts);
    if (derived.software) payload.software = derived.software;
    if (derived.advisories.length) payload.advisories = derived.advisories;
    return this.builder.loaderEvent(entry, time, payload);
  }
}

/** The inode number of the agent's own mount namespace, or undefined when unreadable. */
function readOwnMountNamespace(): number | undefined {
  try {
    const found = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/mnt'));
    return found ? Number(found[1]) : undefined;
  } catch {
    return undefined;
  }
}

function binaryPaths(process: TetragonProcess): string[] {
  const exe = `/proc/${process.pid}/exe`;
  // A deleted binary or a memfd has no path to fall back on: only the process's own link.
  return process.binary_properties?.file ? [exe] : [exe, process.binary!];
}

/** A kernel-read identity in the fields identityOf() takes from a stat. */
function statsOf(identity: FileIdentity) {
  return {
    dev: identity.device,
    ino: identity.inode,
    mtimeNs: identity.mtimeNs,
    size: identity.size,
  };
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
