/**
 * File facts (hashes, build-ids, versions), computed once per file identity (device, inode,
 * modification time, size) and kept in a bounded cache. Hashing runs in a queue off the event
 * path, one file at a time: a burst of new binaries waits its turn instead of taking the
 * agent's thread for all of them at once.
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { FileFactsError, identityOf, readFileFacts, type FileFacts } from './file-facts';

export interface FactsCacheOptions {
  /** Identities kept; the least recently used go first. */
  maxEntries?: number;
  /** Files waiting to be hashed at most; beyond, a file is reported unhashed ("overloaded"). */
  maxQueued?: number;
}

export interface FactsCacheCounters {
  hits: number;
  hashed: number;
  failed: number;
  queued: number;
}

const DEFAULT_MAX_ENTRIES = 8192;
/**
 * How long a path's identity is trusted without another stat. A build starts hundreds of
 * processes a second that load the same libraries; one stat per path per interval is enough.
 * Limitation: a library rewritten in place is seen with its old hash by the loads of the
 * following second at most. /proc aliases are never remembered (pids are reused).
 */
const IDENTITY_TRUSTED_MS = 1000;
const REMEMBERED_PATHS_MAX = 16_384;
const DEFAULT_MAX_QUEUED = 10_000;

export class FileFactsCache {
  private readonly byIdentity = new Map<string, FileFacts>();
  private readonly recentIdentity = new Map<string, { identity: string; atMs: number }>();
  private readonly pending = new Map<string, Promise<FileFacts>>();
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private readonly maxEntries: number;
  private readonly maxQueued: number;
  readonly counters: FactsCacheCounters = { hits: 0, hashed: 0, failed: 0, queued: 0 };

  constructor(options: FactsCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  get size(): number {
    return this.byIdentity.size;
  }

  /**
   * The facts of the first of `paths` that exists, when its identity is cached: one stat,
   * no hashing. For building an exec event without waiting. `identity`: the file's identity
   * as the kernel read it from the inode (an exec's binary, a loaded library), looked up with
   * no stat at all. `trustRecent`: a path stat'ed within the last second is not stat'ed again
   * (library loads; never executables, whose rewrite in place must show at the next exec).
   */
  cached(
    paths: readonly string[],
    options: { trustRecent?: boolean; identity?: string } = {},
  ): FileFacts | undefined {
    if (options.identity) return this.hit(options.identity);
    const nowMs = Date.now();
    for (const path of paths) {
      const recent = options.trustRecent ? this.recentIdentity.get(path) : undefined;
      if (recent && nowMs - recent.atMs < IDENTITY_TRUSTED_MS) return this.hit(recent.identity);
      let identity: string;
      try {
        // A short-lived process is often gone before its exec is handled: its /proc alias is
        // then missing, which without throwIfNoEntry costs an exception with a stack each time.
        const stats = statSync(path, { bigint: true, throwIfNoEntry: false });
        if (!stats) continue;
        identity = identityOf(stats);
      } catch {
        continue;
      }
      if (!path.startsWith('/proc/')) this.rememberIdentity(path, identity, nowMs);
      return this.hit(identity);
    }
    return undefined;
  }

  /**
   * describe() for a file the kernel identified as `identity`: hashed in the queue (opened
   * through the first of `paths` that can be) unless already known, with no stat. Files of
   * one identity are hashed once, however many ask while it is queued. The facts are
   * remembered under the kernel's identity too when the file read had the same modification
   * time and size: a file system whose stat shows another device or inode than the inode's
   * own (overlayfs, btrfs subvolumes) then still hits next time; a file rewritten meanwhile
   * is not remembered under the identity of what was run.
   */
  private describeIdentified(
    identity: string,
    paths: readonly string[],
    namedAs: string,
  ): Promise<FileFacts> {
    const known = this.hit(identity);
    if (known) return Promise.resolve(known);
    return this.hashInQueue(identity, paths, namedAs).then((facts) => {
      if (facts.identity !== identity && sameStamp(facts.identity, identity)) {
        this.remember(facts, identity);
      }
      return facts;
    });
  }

  private rememberIdentity(path: string, identity: string, atMs: number): void {
    if (this.recentIdentity.size >= REMEMBERED_PATHS_MAX) this.recentIdentity.clear();
    this.recentIdentity.set(path, { identity, atMs });
  }

  /**
   * The facts of the first of `paths` that can be opened (a /proc alias first, then the path
   * itself): from the cache, or hashed in the queue. Rejects with FileFactsError, naming
   * `namedAs`, when none can be read. `kernelIdentity`: as `identity` in cached().
   */
  async describe(
    paths: readonly string[],
    namedAs: string,
    kernelIdentity?: string,
  ): Promise<FileFacts> {
    if (kernelIdentity) return this.describeIdentified(kernelIdentity, paths, namedAs);
    let lastError: unknown;
    for (const [index, path] of paths.entries()) {
      let identity: string;
      try {
        identity = identityOf(await stat(path, { bigint: true }));
      } catch (error) {
        lastError = error;
        continue;
      }
      const known = this.hit(identity);
      if (known) return known;
      return this.hashInQueue(identity, paths.slice(index), namedAs);
    }
    this.counters.failed++;
    throw new FileFactsError(namedAs, 'gone', { cause: lastError });
  }

  private hit(identity: string): FileFacts | undefined {
    const facts = this.byIdentity.get(identity);
    if (!facts) return undefined;
    // Re-inserted: Map order is then least recently used first.
    this.byIdentity.delete(identity);
    this.byIdentity.set(identity, facts);
    this.counters.hits++;
    return facts;
  }

  /**
   * Hashes the first of `paths` that can still be opened when the queue reaches it: a
   * /proc/<pid> alias may be gone by then (the process exited), its path not.
   */
  private hashInQueue(
    identity: string,
    paths: readonly string[],
    namedAs: string,
  ): Promise<FileFacts> {
    const running = this.pending.get(identity);
    if (running) return running;
    if (this.queued >= this.maxQueued) {
      this.counters.failed++;
      return Promise.reject(new FileFactsError(namedAs, 'overloaded'));
    }
    this.queued++;
    this.counters.queued++;
    const job = this.queue.then(() => readFirst(paths, namedAs));
    this.queue = job.catch(() => undefined);
    const done = job.then(
      (facts) => {
        this.remember(facts);
        this.counters.hashed++;
        return facts;
      },
      (error: unknown) => {
        this.counters.failed++;
        throw error;
      },
    );
    const settle = () => {
      this.queued--;
      this.pending.delete(identity);
    };
    done.then(settle, settle);
    this.pending.set(identity, done);
    return done;
  }

  private remember(facts: FileFacts, identity: string = facts.identity): void {
    this.byIdentity.delete(identity);
    this.byIdentity.set(identity, facts);
    while (this.byIdentity.size > this.maxEntries) {
      this.byIdentity.delete(this.byIdentity.keys().next().value!);
    }
  }
}

/** Whether two identities ("device:inode:mtimeNs:size") have one modification time and size. */
function sameStamp(a: string, b: string): boolean {
  return (
    a.slice(a.indexOf(':', a.indexOf(':') + 1)) === b.slice(b.indexOf(':', b.indexOf(':') + 1))
  );
}

async function readFirst(paths: readonly string[], namedAs: string): Promise<FileFacts> {
  for (const [index, path] of paths.entries()) {
    try {
      return await readFileFacts(path, namedAs);
    } catch (error) {
      const gone = error instanceof FileFactsError && error.reason === 'gone';
      if (!gone || index === paths.length - 1) throw error;
    }
  }
  throw new FileFactsError(namedAs, 'gone');
}
