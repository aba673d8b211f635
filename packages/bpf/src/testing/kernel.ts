/** What the kernel tests share: when to skip, and waiting for records. */
import { existsSync } from 'node:fs';
import { ADDON_PATH, DEFAULT_OBJECT_PATH } from '../native';
import type { SensorRecord } from '../records';
import type { Sensor } from '../sensor';

/** Why BPF cannot run here, or false when it can; the reason is printed by the skip. */
export function kernelSkipReason(): string | false {
  if (process.getuid?.() !== 0) return 'not root: loading BPF programs needs root (CAP_BPF)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no BTF: /sys/kernel/btf/vmlinux is missing';
  if (!existsSync(ADDON_PATH) || !existsSync(DEFAULT_OBJECT_PATH)) {
    return 'native parts not built: run npm run build:native -w @proctrail/bpf';
  }
  return false;
}

/** Every record the sensor hands out, in arrival order. */
export function collect(sensor: Sensor): SensorRecord[] {
  const records: SensorRecord[] = [];
  sensor.on('batch', (batch) => {
    for (const record of batch) records.push(record);
  });
  return records;
}

/** Polls `done` every 20 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  done: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves with the exit code of a child process. */
export function exitOf(child: import('node:child_process').ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
