/**
 * The sensor: loads and attaches the BPF programs, takes the start-up snapshot, and hands
 * decoded records to listeners in batches.
 */
import { EventEmitter } from 'node:events';
import { findCgroupV2Root } from './cgroup-root';
import { addKernelCounters, emptyKindCounters, type SensorCounters } from './counters';
import { decodeBatch } from './decode';
import { SensorError } from './errors';
import {
  DEFAULT_OBJECT_PATH,
  loadNative,
  type NativeSensorHandle,
  type ProgramRunStats,
} from './native';
import { encodePolicies, snapshotScopes, type KernelPolicy } from './policy';
import { disabledPrograms, hookBits, type HookFamilies } from './programs';
import type { SensorRecord } from './records';
import { readProcessSnapshot, type SnapshotProcess } from './snapshot';
import { DEFAULT_WATCHED_PATHS, encodeWatchedPaths, validateWatchedPaths } from './watch';

/**
 * 4 MiB holds about 8,000 exec records or 85,000 file records: the reader is woken at 256 KiB,
 * so this is headroom for a stalled JavaScript thread. The ring is mapped twice into the
 * process (records may wrap), so it counts twice in RSS: raise it for bursty hosts, at that
 * price.
 */
export const DEFAULT_RING_BUFFER_BYTES = 4 << 20;

export interface SensorOptions {
  /** The linked BPF object; defaults to build/bpf/proctrail.bpf.o of this package. */
  objectPath?: string;
  /** Ring buffer size in bytes: a power of two, at least 4096. Default 4 MiB. */
  ringBufferBytes?: number;
  /** Bytes of argv copied at exec (1..16384); longer ones are cut and flagged. Default 4096. */
  argvLimitBytes?: number;
  /** Paths whose opens, reads and writes are recorded. Default DEFAULT_WATCHED_PATHS. */
  watchedPaths?: readonly string[];
  /** Drop the records of this very process (an agent must not watch itself). Default true. */
  ignoreOwnProcess?: boolean;
  /** Hook families to load; exec, fork and exit are always on. Default: all on. */
  hooks?: HookFamilies;
  /** Where the cgroup v2 hierarchy is mounted; found in /proc/self/mounts by default. */
  cgroupRoot?: string;
  /** Read /proc after attaching (Sensor.snapshot). Default true. */
  snapshot?: boolean;
  /** A first batch listener, registered before any record can arrive. */
  onBatch?: BatchListener;
  /**
   * Prevention policies, in force from the moment the hooks attach until stop(): processes
   * killed at exec, connects refused, each reported as an `enforce` record whose policyIndex
   * is the policy's index here. Needs the network hooks when a policy acts on connect.
   */
  policies?: readonly KernelPolicy[];
}

/** Receives the records of one ring buffer batch, in the kernel's order per CPU. */
export type BatchListener = (records: SensorRecord[]) => void;
export type ErrorListener = (error: Error) => void;

/**
 * A running sensor. Records arrive as batches on the 'batch' event (synchronously, on the
 * JavaScript thread); batches that arrive while no listener is registered are held and handed
 * to the first one. Errors thrown by listeners go to 'error' listeners (or are rethrown when
 * there are none). Create it with startSensor().
 */
export class Sensor {
  /** The processes running when the sensor started, read after the hooks were attached. */
  snapshot: SnapshotProcess[] = [];

  readonly #handle: NativeSensorHandle;
  readonly #events = new EventEmitter();
  readonly #held: SensorRecord[][] = [];
  readonly #counts: Omit<SensorCounters, 'lost' | 'helperErrors'> = {
    received: 0,
    decodeErrors: 0,
    batches: 0,
    byKind: emptyKindCounters(),
  };
  #lastBatchAt = Date.now();
  #finalCounters: SensorCounters | undefined;
  readonly #onExit = () => this.stop();

  /** @internal use startSensor() */
  constructor(handle: NativeSensorHandle) {
    this.#handle = handle;
    process.once('exit', this.#onExit);
  }

  /** Registers a listener of record batches, or of listener errors. */
  on(event: 'batch', listener: BatchListener): this;
  on(event: 'error', listener: ErrorListener): this;
  on(event: 'batch' | 'error', listener: BatchListener | ErrorListener): this {
    this.#events.on(event, listener);
    if (event === 'batch' && this.#held.length > 0) queueMicrotask(() => this.#releaseHeld());
    return this;
  }

  off(event: 'batch' | 'error', listener: BatchListener | ErrorListener): this {
    this.#events.off(event, listener);
    return this;
  }

  /** Whether stop() was called. */
  get stopped(): boolean {
    return this.#finalCounters !== undefined;
  }

  /** Counters since start; after stop(), their final values. */
  counters(): SensorCounters {
    if (this.#finalCounters) return this.#finalCounters;
    const byKind = structuredClone(this.#counts.byKind);
    addKernelCounters(this.#handle.readCounters(), byKind);
    const kinds = Object.values(byKind);
    return {
      ...this.#counts,
      byKind,
      lost: kinds.reduce((sum, k) => sum + k.lost, 0),
      helperErrors: kinds.reduce((sum, k) => sum + k.helperErrors, 0),
    };
  }

  /** A sensor that failed before load has no kernel counters: user space ones, lost 0. */
  #countersOrUserSpaceOnly(): SensorCounters {
    try {
      return this.counters();
    } catch {
      return { ...structuredClone(this.#counts), lost: 0, helperErrors: 0 };
    }
  }

  /**
   * Makes the kernel time every run of every BPF program (not only this sensor's) until stop():
   * two clock reads per run, so for measurement, not for production. Throws SensorError.
   */
  enableRunTimeStats(): void {
    try {
      this.#handle.enableRunTimeStats();
    } catch (error) {
      throw SensorError.fromNative(error, 'enableRunTimeStats');
    }
  }

  /** Run count and kernel time of each loaded program since load (time only while enabled). */
  programStats(): ProgramRunStats[] {
    try {
      return this.#handle.programStats();
    } catch (error) {
      throw SensorError.fromNative(error, 'programStats');
    }
  }

  /** Replaces the watched paths, in the kernel, while running. */
  setWatchedPaths(paths: readonly string[]): void {
    validateWatchedPaths(paths);
    try {
      this.#handle.setWatchPatterns(encodeWatchedPaths(paths));
    } catch (error) {
      throw SensorError.fromNative(error, 'setWatchedPaths');
    }
  }

  /**
   * Resolves once no batch has arrived for `quietMs` (or after `timeoutMs`): records the
   * kernel already wrote have then been delivered. Useful before stop() in tests and tools.
   */
  async settle(quietMs = 200, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    const deadline = start + timeoutMs;
    while (Date.now() < deadline && Date.now() - Math.max(this.#lastBatchAt, start) < quietMs) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Detaches every hook and stops polling; records not yet delivered are dropped. Idempotent,
   * safe from inside a batch listener, and run by itself when the process exits.
   */
  stop(): void {
    if (this.#finalCounters) return;
    this.#finalCounters = this.#countersOrUserSpaceOnly();
    process.off('exit', this.#onExit);
    this.#handle.stop();
  }

  /** @internal the binding's callback */
  receive(bytes: Buffer): void {
    if (this.#finalCounters) return;
    const { records, errors } = decodeBatch(bytes);
    this.#lastBatchAt = Date.now();
    this.#counts.batches++;
    this.#counts.decodeErrors += errors;
    this.#counts.received += records.length;
    for (const record of records) this.#counts.byKind[record.kind].received++;
    if (records.length === 0) return;
    if (this.#events.listenerCount('batch') === 0) this.#held.push(records);
    else this.#emit(records);
  }

  #releaseHeld(): void {
    while (this.#held.length > 0 && this.#events.listenerCount('batch') > 0) {
      this.#emit(this.#held.shift()!);
    }
  }

  #emit(records: SensorRecord[]): void {
    for (const listener of this.#events.listeners('batch') as BatchListener[]) {
      try {
        listener(records);
      } catch (error) {
        if (this.#events.listenerCount('error') === 0) throw error;
        this.#events.emit('error', error);
      }
    }
  }
}

/** Writes the policy maps between load and attach: the hooks never run with half a set. */
function loadPolicies(handle: NativeSensorHandle, policies: readonly KernelPolicy[]): void {
  const encoded = encodePolicies(policies);
  // policy_set last: its count turns the hooks' policy code on.
  for (const name of ['policies', 'policy_binaries', 'policy_cidrs', 'policy_set'] as const) {
    const { keys, values } = encoded[name];
    if (keys.length) handle.updatePolicyMap(name, keys, values);
  }
}

function openHandle(options: SensorOptions): NativeSensorHandle {
  const { SensorHandle } = loadNative();
  try {
    return new SensorHandle(options.objectPath ?? DEFAULT_OBJECT_PATH, {
      ringBufferBytes: options.ringBufferBytes ?? DEFAULT_RING_BUFFER_BYTES,
      argvLimitBytes: options.argvLimitBytes ?? 4096,
      selfPid: options.ignoreOwnProcess === false ? 0 : process.pid,
      hooks: hookBits(options.hooks),
      disabledPrograms: disabledPrograms(options.hooks),
    });
  } catch (error) {
    throw SensorError.fromNative(error, 'open');
  }
}

/**
 * Loads and attaches the BPF programs, starts polling, then reads the /proc snapshot: attach
 * first, so that no process slips between the snapshot and the hooks.
 *
 * Throws SensorError naming the step (btf, open, load <program>, attach <program>, ringbuf)
 * with its errno and what to do (run as root, ...), or TypeError for a bad option.
 */
export async function startSensor(options: SensorOptions = {}): Promise<Sensor> {
  const watched = options.watchedPaths ?? DEFAULT_WATCHED_PATHS;
  validateWatchedPaths(watched);
  const policies = options.policies ?? [];
  if (policies.some((p) => p.on === 'connect') && options.hooks?.network === false) {
    throw new TypeError('connect policies need the network hooks (hooks.network)');
  }
  if (policies.length) encodePolicies(policies); // validates before anything is loaded
  const handle = openHandle(options);
  const sensor = new Sensor(handle);

  try {
    handle.load();
    if (options.hooks?.files !== false) handle.setWatchPatterns(encodeWatchedPaths(watched));
    if (policies.length) loadPolicies(handle, policies);
    handle.attach(options.cgroupRoot ?? findCgroupV2Root());
    if (options.onBatch) sensor.on('batch', options.onBatch);
    handle.start((bytes) => sensor.receive(bytes));
  } catch (error) {
    sensor.stop();
    throw SensorError.fromNative(error, 'start');
  }
  if (options.snapshot !== false || policies.length) {
    const snapshot = readProcessSnapshot();
    if (options.snapshot !== false) sensor.snapshot = snapshot;
    if (policies.length) {
      const scopes = snapshotScopes(policies, snapshot);
      try {
        if (scopes.keys.length) handle.updatePolicyMap('policy_scope', scopes.keys, scopes.values);
      } catch (error) {
        sensor.stop();
        throw SensorError.fromNative(error, 'policy scopes');
      }
    }
  }
  return sensor;
}
