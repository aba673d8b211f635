/**
 * The typed records the sensor hands out: one discriminated union, by `kind`. Kernel times are
 * CLOCK_BOOTTIME nanoseconds as bigint (`...Ns`), the clock of Tetragon's exec_id.
 */

/** Fields every record has. `pid` is the process (thread group) id, `tid` the thread. */
export interface RecordBase {
  /** When the hook ran: bpf_ktime_get_boot_ns(). */
  ktimeNs: bigint;
  pid: number;
  tid: number;
  /** Raw pt_header.flags; the decoded meaning is in each record's own fields. */
  flags: number;
}

/** One of fds 0, 1 and 2 of a process at exec. */
export interface StdioInfo {
  isSocket: boolean;
  /** AF_* of the socket (1 unix, 2 inet, 10 inet6); 0 when not a socket. */
  family: number;
  protocol: number;
  /** An IPv4 or IPv6 peer: what a reverse shell's stdio looks like. Unix sockets have none. */
  peer?: { address: string; port: number; localPort: number };
}

/**
 * A file's identity as the kernel saw it when the record was made, from the inode in hand:
 * what stat(2) of that file would say (`device` in stat's st_dev encoding), without a stat.
 */
export interface FileIdentity {
  device: bigint;
  inode: bigint;
  /** Modification time in nanoseconds since the epoch. */
  mtimeNs: bigint;
  size: bigint;
}

export interface ExecRecord extends RecordBase {
  kind: 'exec';
  ppid: number;
  /** Boot-clock start of the process (its fork) and of its parent. */
  startNs: bigint;
  parentStartNs: bigint;
  uid: number;
  euid: number;
  gid: number;
  /** loginuid; 4294967295 when unset. */
  auid: number;
  /** The executable file, walked from its dentry (for a script: its interpreter). */
  binary: string;
  /** The name exec was given, as given (a script's name, possibly relative to cwd). */
  filename: string;
  /** argv including argv[0], cut at the configured limit (see `truncated.argv`). */
  argv: string[];
  argc: number;
  cwd: string;
  /** cgroup v2 path; on a hybrid host whose v2 cgroup is the root, the memory v1 cgroup's. */
  cgroupPath: string;
  cgroupId: bigint;
  deleted: boolean;
  memfd: boolean;
  capabilities: { permitted: bigint; effective: bigint; inheritable: bigint };
  namespaces: {
    pid: number;
    mnt: number;
    net: number;
    uts: number;
    ipc: number;
    cgroup: number;
    user: number;
  };
  /** The pid as the process's own pid namespace numbers it (1 for a container's init). */
  pidInNamespace: number;
  stdio: [StdioInfo, StdioInfo, StdioInfo];
  truncated: { binary: boolean; filename: boolean; argv: boolean; cwd: boolean; cgroup: boolean };
  /** A kernel helper failed while the record was built: some fields are empty or zero. */
  partial: boolean;
  /** The executable file's identity; absent when the kernel could not read it. */
  binaryIdentity?: FileIdentity;
}

/** A new process (threads are not reported). The base fields name the parent. */
export interface ForkRecord extends RecordBase {
  kind: 'fork';
  childPid: number;
  childTid: number;
  childStartNs: bigint;
  parentStartNs: bigint;
}

/** A whole process ended (its last thread). */
export interface ExitRecord extends RecordBase {
  kind: 'exit';
  /** exit status (0..255); meaningful when `signal` is 0. */
  exitCode: number;
  /** the terminating signal, or 0. */
  signal: number;
  /** task->exit_code as the kernel keeps it: status << 8 | signal. */
  rawStatus: number;
  startNs: bigint;
}

export interface Endpoint {
  /** "127.0.0.1", "::1", "::ffff:127.0.0.1". */
  address: string;
  port: number;
}

export type SocketKind = 'connect' | 'accept' | 'close' | 'listen';

export interface SocketRecord extends RecordBase {
  kind: SocketKind;
  /** The kernel's struct sock address: one value from connect/accept to close. */
  cookie: bigint;
  fd: number;
  /** connect, listen: 0 or -errno; accept: the new fd; close: 0. */
  result: number;
  family: 'ipv4' | 'ipv6';
  /** IPPROTO_* (6 TCP, 17 UDP). */
  protocol: number;
  /** SOCK_* (1 stream, 2 datagram). */
  sockType: number;
  local: Endpoint;
  remote: Endpoint;
  /** close of a TCP socket: tcp_sock's counters. */
  bytesSent?: bigint;
  bytesReceived?: bigint;
}

export interface OpenRecord extends RecordBase {
  kind: 'open';
  /** The opened file's full path, or for a failed open the absolute name given. */
  path: string;
  /** O_* flags as passed. */
  flags: number;
  /** The new fd, or -errno. */
  result: number;
  /** The struct file address: joins reads and writes to this open; 0n for a failed open. */
  fileCookie: bigint;
}

/**
 * A library load: a successful open of a shared object (".so", ".so.N") or of an archive a
 * runtime loads code from (".jar", ".war", ".ear", ".node"). One per open: the same library
 * opened twice by a process comes twice.
 */
export interface LoadRecord extends RecordBase {
  kind: 'load';
  /** The opened file's full path, walked in the kernel. */
  path: string;
  /** The struct file address of the open. */
  fileCookie: bigint;
  /** The opened file's identity; absent when the kernel could not read it. */
  identity?: FileIdentity;
}

export interface IoRecord extends RecordBase {
  kind: 'read' | 'write';
  fd: number;
  /** Bytes read or written, or -errno. */
  bytes: number;
  fileCookie: bigint;
}

/**
 * A policy acted: a process killed at exec, a connect refused, or (dry run, alert) what would
 * have been. The base fields name the process; for a kill, the exec record came just before.
 */
export interface EnforceRecord extends RecordBase {
  kind: 'enforce';
  /** The policy's index in the set the sensor was started with (Sensor.policies). */
  policyIndex: number;
  action: 'kill' | 'deny-connect';
  /** blocked; or reported only: dry-run (would have blocked), alert (the policy only reports) */
  outcome: 'blocked' | 'dry-run' | 'alert';
  /** For a kill, bpf_send_signal's return: 0, or -errno when the signal could not be sent. */
  result: number;
  /** deny-connect: the destination asked for. */
  destination?: Endpoint & { family: 'ipv4' | 'ipv6'; protocol: number };
}

export type SensorRecord =
  | ExecRecord
  | ForkRecord
  | ExitRecord
  | SocketRecord
  | OpenRecord
  | LoadRecord
  | IoRecord
  | EnforceRecord;

export type RecordKind = SensorRecord['kind'];
