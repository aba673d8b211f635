/**
 * The processes already running when the sensor starts, read from /proc. The sensor takes it
 * after its hooks are attached, so a process is either here, or seen starting, or both.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** USER_HZ: /proc start times are in these ticks; 100 on every Linux ABI in use. */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface SnapshotProcess {
  pid: number;
  ppid: number;
  /** Start time since boot in clock ticks (/proc/<pid>/stat field 22). */
  startTicks: number;
  /** startTicks in nanoseconds (ticks x 10^7): what Tetragon's procFS exec_ids use. */
  startNs: bigint;
  /** /proc/<pid>/exe; empty for kernel threads and when unreadable. */
  binary: string;
  argv: string[];
  cwd: string;
  uid: number;
  euid: number;
  gid: number;
  /** Kernel threads have no executable and no argv. */
  kernelThread: boolean;
  /**
   * The cgroup path as the exec hook reports it (the v2 cgroup; on a hybrid host where that is
   * the root, the memory v1 cgroup's); absent when unreadable.
   */
  cgroupPath?: string;
  /** The inode of the process's pid namespace; absent when unreadable. */
  pidNamespace?: number;
  /** The pid its own pid namespace gives it (NSpid's last field); absent when unreadable. */
  pidInNamespace?: number;
}

function readLinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** The comm may hold spaces and parentheses: fields start after the last ')'. */
function parseStat(stat: string): { ppid: number; startTicks: number; flags: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5): field N is fields[N - 3].
  return {
    ppid: Number(fields[1]),
    flags: Number(fields[6]),
    startTicks: Number(fields[19]),
  };
}

function parseIds(status: string, key: 'Uid' | 'Gid'): number[] {
  const line = status.split('\n').find((l) => l.startsWith(`${key}:`)) ?? '';
  return line.split(/\s+/).slice(1).map(Number);
}

const PF_KTHREAD = 0x00200000;

/**
 * Picks the path the exec hook would report from /proc/<pid>/cgroup: the v2 line (`0::/path`),
 * or when that is the root on a hybrid host, the memory controller's v1 line. Keep in sync with
 * task_cgroup_node() in src/bpf/cgroup.h.
 */
export function cgroupPathOf(procCgroup: string): string | undefined {
  const lines = procCgroup.split('\n').filter(Boolean);
  const unified = lines.find((line) => line.startsWith('0::'))?.slice(3);
  if (unified && unified !== '/') return unified;
  const memory = lines
    .map((line) => line.split(':'))
    .find(([, controllers]) => controllers?.split(',').includes('memory'));
  return memory ? memory.slice(2).join(':') : unified;
}

function readOrUndefined<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function readProcess(procRoot: string, pid: number): SnapshotProcess {
  const dir = join(procRoot, String(pid));
  const stat = parseStat(readFileSync(join(dir, 'stat'), 'utf8'));
  const status = readFileSync(join(dir, 'status'), 'utf8');
  const cmdline = readFileSync(join(dir, 'cmdline'), 'utf8');
  const [uid = 0, euid = 0] = parseIds(status, 'Uid');
  const [gid = 0] = parseIds(status, 'Gid');
  const argv = cmdline.split('\0');
  if (argv[argv.length - 1] === '') argv.pop();
  const cgroupPath = readOrUndefined(() => cgroupPathOf(readFileSync(join(dir, 'cgroup'), 'utf8')));
  const pidNamespace = readOrUndefined(() =>
    Number(/\[(\d+)\]/.exec(readlinkSync(join(dir, 'ns', 'pid')))?.[1]),
  );

  const process: SnapshotProcess = {
    pid,
    ppid: stat.ppid,
    startTicks: stat.startTicks,
    startNs: BigInt(stat.startTicks) * BigInt(1e9 / CLOCK_TICKS_PER_SECOND),
    binary: readLinkOrEmpty(join(dir, 'exe')),
    argv,
    cwd: readLinkOrEmpty(join(dir, 'cwd')),
    uid,
    euid,
    gid,
    kernelThread: (stat.flags & PF_KTHREAD) !== 0,
  };
  if (cgroupPath !== undefined) process.cgroupPath = cgroupPath;
  if (pidNamespace) process.pidNamespace = pidNamespace;
  const nsPids = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
  const pidInNamespace = Number(nsPids?.[nsPids.length - 1]);
  if (Number.isInteger(pidInNamespace) && pidInNamespace > 0) {
    process.pidInNamespace = pidInNamespace;
  }
  return process;
}

/** Every process in `procRoot`; processes that exit while it is read are left out. */
export function readProcessSnapshot(procRoot = '/proc'): SnapshotProcess[] {
  const processes: SnapshotProcess[] = [];
  for (const name of readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      processes.push(readProcess(procRoot, Number(name)));
    } catch {
      // Gone between readdir and read: it exited, and the exit hook saw it go.
    }
  }
  return processes.sort((a, b) => a.pid - b.pid);
}
