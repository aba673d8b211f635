/**
 * The compiled binding (binding/*.cc) and the BPF object, as build:native leaves them in
 * build/. Loaded lazily so that importing the package works where nothing was built.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Options the native constructor takes; validated there as well. */
export interface NativeOptions {
  ringBufferBytes: number;
  argvLimitBytes: number;
  selfPid: number;
  /** PT_HOOK_* bits of the syscall hook families to run */
  hooks: number;
  disabledPrograms: string[];
}

/** binding/sensor_handle.h */
export interface NativeSensorHandle {
  load(): void;
  attach(cgroupRoot: string): void;
  start(onBatch: (batch: Buffer) => void): void;
  stop(): void;
  readCounters(): Buffer;
  setWatchPatterns(patterns: Buffer): void;
  /** Entries of one of policy.h's maps, keys and values back to back. */
  updatePolicyMap(name: string, keys: Buffer, values: Buffer): void;
  programNames(): string[];
  pollError(): number;
  enableRunTimeStats(): void;
  programStats(): ProgramRunStats[];
}

/** Time the kernel spent in one BPF program, counted while run-time stats are enabled. */
export interface ProgramRunStats {
  name: string;
  runTimeNs: number;
  runCount: number;
}

interface NativeModule {
  SensorHandle: new (objectPath: string, options: NativeOptions) => NativeSensorHandle;
}

export const ADDON_PATH = fileURLToPath(
  new URL('../build/Release/proctrail_bpf.node', import.meta.url),
);
export const DEFAULT_OBJECT_PATH = fileURLToPath(
  new URL('../build/bpf/proctrail.bpf.o', import.meta.url),
);

let loaded: NativeModule | undefined;

export function loadNative(): NativeModule {
  if (loaded) return loaded;
  if (!existsSync(ADDON_PATH)) {
    throw new Error(
      `the native binding is not built (${ADDON_PATH} is missing): run ` +
        '`npm run build:native -w @proctrail/bpf`',
    );
  }
  loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeModule;
  return loaded;
}
