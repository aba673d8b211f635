import { constants } from 'node:os';
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import type {
  EnforceRecord,
  ExecRecord,
  ExitRecord,
  ForkRecord,
  IoRecord,
  OpenRecord,
  SensorRecord,
  SnapshotProcess,
  SocketRecord,
} from '@proctrail/bpf';
import {
  epochNsToTime,
  type EventKind,
  type ParsedEvent,
  type TetragonEvent,
  type TetragonPod,
  type TetragonProcess,
} from '@proctrail/schema';
import { tetragonArguments } from '../process/arguments';
import { capabilityNames } from '../process/capabilities';
import type { BootClock } from '../process/clock';
import type { CachedExecution, ProcessCache } from '../process/process-cache';
import { ContainerTracker } from '../container/container-tracker';
import type { PodDirectory } from '../container/pod-directory';
import type { PolicySummary } from '../policy/compile';
import { enforcementPayload } from '../policy/enforcement-event';
import type { IngestItem } from '../store/types';

/** Keep in sync with edges.ts in packages/schema: the hook names its tables read. */
const SOCKET_HOOKS: Record<SocketRecord['kind'], { tcp: string; other: string }> = {
  connect: { tcp: 'tcp_connect', other: '__x64_sys_connect' },
  accept: { tcp: 'inet_csk_accept', other: '__x64_sys_accept4' },
  close: { tcp: 'tcp_close', other: '__x64_sys_close' },
  listen: { tcp: 'inet_csk_listen_start', other: '__x64_sys_listen' },
};
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const AF_INET = 2;
const AF_INET6 = 10;
/** Paths of files opened, by the kernel's struct file address, for their reads and writes. */
const OPEN_FILES_KEPT = 50_000;
const ANCESTORS_KEPT = 32;

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export interface EventBuilderOptions {
  nodeName: string;
  /** Attach `ancestors` to events, as Tetragon's --enable-ancestors does. */
  ancestors?: boolean;
  /** The prevention policies the sensor enforces, by index: enforcement events name them. */
  policies?: readonly PolicySummary[];
  /** Pod metadata by container id, when the agent watches a cluster's API. */
  pods?: PodDirectory;
}

/**
 * Turns sensor records into Tetragon-shaped events about whole processes, keeping the process
 * cache up to date on the way. One small builder per record kind.
 */
export class EventBuilder {
  private readonly openFiles = new Map<bigint, string>();
  private readonly hostNamespaces = readHostNamespaces();
  readonly containers = new ContainerTracker();
  /** The pod metadata each execution's process object was last given. */
  private readonly podApplied = new WeakMap<CachedExecution, TetragonPod>();

  constructor(
    private readonly cache: ProcessCache,
    private readonly clock: BootClock,
    private readonly options: EventBuilderOptions,
  ) {}

  /** The events one record makes: none for a fork, one for the others. */
  build(record: SensorRecord): IngestItem[] {
    switch (record.kind) {
      case 'exec':
        return [this.exec(record)];
      case 'fork':
        this.fork(record);
        return [];
      case 'exit':
        return [this.exit(record)];
      case 'connect':
      case 'accept':
      case 'close':
      case 'listen':
        return [this.socket(record)];
      case 'open':
        return [this.open(record)];
      case 'read':
      case 'write':
        return this.io(record);
      case 'enforce':
        return [this.enforce(record)];
      case 'load':
        // Library loads go to the software inventory (inventory/), not into events here.
        return [];
    }
  }

  /**
   * Seeds the cache with the processes running at start-up, parents before children, and
   * returns their exec events (flag `procFS`). `known` maps a pid to the execution a previous
   * run of the agent stored for it: that process keeps its exec_id and is not announced again.
   */
  seed(snapshot: readonly SnapshotProcess[], known: Map<number, TetragonProcess>): IngestItem[] {
    const items: IngestItem[] = [];
    const byPid = new Map(snapshot.map((p) => [p.pid, p]));
    const done = new Set<number>();
    const visit = (proc: SnapshotProcess, depth: number) => {
      if (done.has(proc.pid) || depth > 4096) return;
      const parent = byPid.get(proc.ppid);
      if (parent && parent.pid !== proc.pid) visit(parent, depth + 1);
      done.add(proc.pid);
      const restored = known.get(proc.pid);
      const entry = restored
        ? this.restored(proc, restored)
        : this.procfsEntry(proc, this.cache.current(proc.ppid));
      this.cache.set(entry);
      if (!restored && !proc.kernelThread) {
        items.push(this.item('process_exec', entry, { time: entry.process.start_time! }, {}));
      }
    };
    for (const proc of snapshot) visit(proc, 0);
    return items;
  }

  private restored(proc: SnapshotProcess, process: TetragonProcess): CachedExecution {
    this.containers.adopt(process);
    return {
      execId: process.exec_id!,
      pid: proc.pid,
      startNs: proc.startNs,
      origin: 'procfs',
      process,
      exited: false,
    };
  }

  private procfsEntry(proc: SnapshotProcess, parent: CachedExecution | undefined): CachedExecution {
    const execId = this.cache.execIdFor(proc.startNs, proc.pid);
    const flags = ['procFS', ...(proc.cwd === '/' ? ['rootcwd'] : [])];
    const process: TetragonProcess = {
      exec_id: execId,
      pid: proc.pid,
      uid: proc.euid,
      cwd: proc.cwd,
      binary: proc.kernelThread ? `[${proc.argv[0] ?? proc.pid}]` : proc.binary,
      arguments: tetragonArguments(proc.argv),
      flags: flags.join(' '),
      start_time: this.time(proc.startNs),
      tid: proc.pid,
    };
    // pid 1 and kthreadd are children of the kernel: roots of the tree.
    if (parent) process.parent_exec_id = parent.execId;
    if (proc.pidNamespace) {
      process.ns = {
        pid: {
          inum: proc.pidNamespace,
          is_host: this.hostNamespaces.get('pid') === proc.pidNamespace,
        },
      };
    }
    // Parents come before children here, so a container's init is the first of its
    // processes placed, as when the agent sees the container start.
    if (proc.cgroupPath) {
      this.containers.place(process, parent?.process, proc.cgroupPath, proc.pidInNamespace);
    }
    return {
      execId,
      pid: proc.pid,
      startNs: proc.startNs,
      origin: 'procfs',
      process,
      exited: false,
    };
  }

  private exec(record: ExecRecord): IngestItem {
    const previous = this.cache.current(record.pid, record.startNs);
    // After a fork the new image's parent is the forking process; an exec without a fork
    // (bash -c replacing itself) is a child of the pid's previous image.
    const forked = !previous || previous.origin === 'fork';
    const parentExecId = previous
      ? forked
        ? previous.process.parent_exec_id
        : previous.execId
      : this.cache.current(record.ppid, record.parentStartNs)?.execId;
    const execId = this.cache.execIdFor(record.ktimeNs, record.pid);
    const flags = ['execve'];
    if (forked) flags.push('clone');
    if (record.cwd === '/') flags.push('rootcwd');
    if (record.truncated.argv) flags.push('truncArgs');
    if (record.truncated.binary || record.truncated.filename) flags.push('errorFilename');
    if (!previous && !parentExecId) flags.push('miss');

    const process: TetragonProcess = {
      exec_id: execId,
      pid: record.pid,
      uid: record.euid,
      cwd: record.cwd,
      binary: record.binary,
      arguments: tetragonArguments(record.argv),
      flags: flags.join(' '),
      start_time: this.time(record.ktimeNs),
      auid: record.auid,
      tid: record.pid,
      cap: {
        permitted: capabilityNames(record.capabilities.permitted),
        effective: capabilityNames(record.capabilities.effective),
        inheritable: capabilityNames(record.capabilities.inheritable),
      },
      ns: this.namespaces(record),
    };
    if (parentExecId) process.parent_exec_id = parentExecId;
    this.containers.place(
      process,
      this.cache.byId(parentExecId)?.process,
      record.cgroupPath,
      record.pidInNamespace,
    );
    if (record.deleted || record.memfd) {
      process.binary_properties = { file: { path: record.binary } };
    }
    const stdio = stdioSockets(record);
    if (stdio.length) process.stdio_sockets = stdio;

    const entry: CachedExecution = {
      execId,
      pid: record.pid,
      startNs: record.startNs,
      origin: 'exec',
      process,
      exited: false,
    };
    this.cache.set(entry);
    return this.item('process_exec', entry, { time: process.start_time! }, {});
  }

  private fork(record: ForkRecord): void {
    const parent =
      this.cache.current(record.pid, record.parentStartNs) ?? this.cache.current(record.pid);
    const execId = this.cache.execIdFor(record.childStartNs, record.childPid);
    // A fork runs its parent's image until it execs: Tetragon shows it with the parent's
    // binary, arguments and cwd, under its own pid and exec_id.
    const process: TetragonProcess = {
      ...(parent?.process ?? {}),
      exec_id: execId,
      pid: record.childPid,
      tid: record.childPid,
      flags: '',
      start_time: this.time(record.childStartNs),
    };
    delete process.stdio_sockets;
    // The parent's pid inside its container is not the child's; the kernel names neither here.
    if (process.pod?.container?.pid !== undefined) {
      const { pid: _parentPid, ...container } = process.pod.container;
      process.pod = { ...process.pod, container };
    }
    if (parent) process.parent_exec_id = parent.execId;
    else delete process.parent_exec_id;
    this.cache.set({
      execId,
      pid: record.childPid,
      startNs: record.childStartNs,
      origin: 'fork',
      process,
      exited: false,
    });
  }

  private exit(record: ExitRecord): IngestItem {
    const entry = this.cache.current(record.pid, record.startNs) ?? this.unknownProcess(record);
    const body: Record<string, unknown> = {};
    if (record.signal) body.signal = SIGNAL_NAMES.get(record.signal) ?? `SIG${record.signal}`;
    else if (record.exitCode) body.status = record.exitCode;
    const time = this.time(record.ktimeNs);
    body.time = time;
    const item = this.item('process_exit', entry, { time }, body);
    this.cache.exit(entry);
    return item;
  }

  /** A process the agent never saw start (it raced the start-up snapshot). */
  private unknownProcess(record: ExitRecord): CachedExecution {
    const execId = this.cache.execIdFor(record.startNs, record.pid);
    const process: TetragonProcess = {
      exec_id: execId,
      pid: record.pid,
      tid: record.pid,
      flags: 'miss',
      start_time: this.time(record.startNs),
    };
    return {
      execId,
      pid: record.pid,
      startNs: record.startNs,
      origin: 'fork',
      process,
      exited: false,
    };
  }

  private socket(record: SocketRecord): IngestItem {
    const entry = this.subject(record);
    const tcp = record.protocol === IPPROTO_TCP;
    const args: Array<Record<string, unknown>> = [
      {
        sock_arg: {
          family: record.family === 'ipv6' ? 'AF_INET6' : 'AF_INET',
          type: record.sockType === 2 ? 'SOCK_DGRAM' : 'SOCK_STREAM',
          protocol: tcp
            ? 'IPPROTO_TCP'
            : record.protocol === IPPROTO_UDP
              ? 'IPPROTO_UDP'
              : `${record.protocol}`,
          saddr: tetragonAddress(record.local.address),
          daddr: tetragonAddress(record.remote.address),
          sport: record.local.port,
          dport: record.remote.port,
          cookie: record.cookie.toString(),
        },
      },
    ];
    if (record.bytesSent !== undefined)
      args.push({ size_arg: record.bytesSent.toString(), label: 'bytes_sent' });
    if (record.bytesReceived !== undefined) {
      args.push({ size_arg: record.bytesReceived.toString(), label: 'bytes_received' });
    }
    const hooks = SOCKET_HOOKS[record.kind];
    return this.item(
      'process_kprobe',
      entry,
      { time: this.time(record.ktimeNs) },
      {
        function_name: tcp ? hooks.tcp : hooks.other,
        args,
        return: { int_arg: record.result },
        action: 'KPROBE_ACTION_POST',
        policy_name: 'proctrail-network',
      },
    );
  }

  private open(record: OpenRecord): IngestItem {
    if (record.result >= 0 && record.fileCookie) {
      if (this.openFiles.size >= OPEN_FILES_KEPT) this.openFiles.clear();
      this.openFiles.set(record.fileCookie, record.path);
    }
    return this.item(
      'process_kprobe',
      this.subject(record),
      { time: this.time(record.ktimeNs) },
      {
        function_name: '__x64_sys_openat',
        args: [{ file_arg: { path: record.path, flags: openFlagsText(record.flags) } }],
        return: { int_arg: record.result },
        action: 'KPROBE_ACTION_POST',
        policy_name: 'proctrail-files',
      },
    );
  }

  private io(record: IoRecord): IngestItem[] {
    const path = this.openFiles.get(record.fileCookie);
    if (!path) return [];
    return [
      this.item(
        'process_kprobe',
        this.subject(record),
        { time: this.time(record.ktimeNs) },
        {
          function_name: record.kind === 'read' ? '__x64_sys_read' : '__x64_sys_write',
          args: [{ file_arg: { path } }, { size_arg: String(Math.max(record.bytes, 0)) }],
          return: { int_arg: record.bytes },
          action: 'KPROBE_ACTION_POST',
          policy_name: 'proctrail-files',
        },
      ),
    ];
  }

  /** A kill follows the exec it stopped: the subject is that new image. */
  private enforce(record: EnforceRecord): IngestItem {
    const entry = this.subject(record);
    const policy = this.options.policies?.[record.policyIndex];
    return this.item(
      'process_kprobe',
      entry,
      { time: this.time(record.ktimeNs) },
      enforcementPayload(record, policy, entry.process.binary),
    );
  }

  /** The execution a record's pid runs; records from a pid never seen mint a bare one. */
  private subject(record: { pid: number; ktimeNs: bigint }): CachedExecution {
    const entry = this.cache.current(record.pid);
    if (entry) return entry;
    const execId = this.cache.execIdFor(record.ktimeNs, record.pid);
    const bare: CachedExecution = {
      execId,
      pid: record.pid,
      startNs: record.ktimeNs,
      origin: 'fork',
      process: { exec_id: execId, pid: record.pid, tid: record.pid, flags: 'miss' },
      exited: false,
    };
    this.cache.set(bare);
    return bare;
  }

  /**
   * A process_loader event about a process: the software inventory's library loads and the
   * hashes of executables that came after their exec.
   */
  loaderEvent(entry: CachedExecution, time: string, payload: Record<string, unknown>): IngestItem {
    return this.item('process_loader', entry, { time }, payload);
  }

  /** A boot-clock time as an event time. */
  timeOf(bootNs: bigint): string {
    return this.time(bootNs);
  }

  /**
   * Brings the pod metadata of a process up to date with what the cluster's API says now, when
   * the agent watches one and the process is in a known container: metadata that arrived after
   * the exec, and labels changed since, reach the process's later events. The process object
   * is replaced, not changed, because events already built still hold the old one. A pod gone
   * from the API leaves its processes with what was last known.
   */
  private refreshPod(entry: CachedExecution): void {
    if (!this.options.pods || !entry.process.docker) return;
    const pod = this.options.pods.podOf(entry.process.docker);
    if (!pod || this.podApplied.get(entry) === pod) return;
    this.podApplied.set(entry, pod);
    const merged = withObservedContainer(pod, entry.process.pod);
    if (this.maybeExecProbe(entry.process)) {
      merged.container = { ...merged.container, maybe_exec_probe: true };
    }
    entry.process = { ...entry.process, pod: merged };
  }

  /**
   * Whether a process entered into its container runs one of the container's exec probe
   * commands, or descends from one in that container: what kubelet's probes look like, which
   * enter the container as kubectl exec does, every few seconds.
   */
  private maybeExecProbe(process: TetragonProcess): boolean {
    if (process.in_init_tree !== false || !process.docker) return false;
    const parent = this.cache.byId(process.parent_exec_id)?.process;
    if (parent?.docker === process.docker && parent.pod?.container?.maybe_exec_probe) return true;
    const commands = this.options.pods?.probeCommandsOf?.(process.docker) ?? [];
    return commands.some((command) => runsCommand(process, command));
  }

  private item(
    kind: EventKind,
    entry: CachedExecution,
    envelope: { time: string },
    payload: Record<string, unknown>,
  ): IngestItem {
    this.refreshPod(entry);
    const body: Record<string, unknown> = { process: entry.process };
    const parent = this.cache.byId(entry.process.parent_exec_id);
    if (parent) {
      this.refreshPod(parent);
      body.parent = parent.process;
    }
    if (this.options.ancestors) {
      const ancestors = parent ? this.cache.ancestorsOf(parent, ANCESTORS_KEPT) : [];
      if (ancestors.length) body.ancestors = ancestors;
    }
    Object.assign(body, payload);
    const event = {
      [kind]: body,
      node_name: this.options.nodeName,
      time: envelope.time,
    } as TetragonEvent;
    const parsed: ParsedEvent = {
      kind,
      envelope: { node_name: this.options.nodeName, time: envelope.time },
      body: body as ParsedEvent['body'],
      event,
    };
    return { parsed, raw: event };
  }

  private time(bootNs: bigint): string {
    return epochNsToTime(this.clock.toEpochNs(bootNs));
  }

  private namespaces(record: ExecRecord): TetragonProcess['ns'] {
    const ns: NonNullable<TetragonProcess['ns']> = {};
    for (const [name, inum] of Object.entries(record.namespaces)) {
      const key = name as keyof typeof record.namespaces;
      ns[key] = { inum, is_host: this.hostNamespaces.get(key) === inum };
    }
    return ns;
  }
}

/** Shells a probe names by one name and the kernel reports by another (sh is dash here). */
const SHELL_NAMES = new Set(['sh', 'bash', 'dash', 'ash', 'busybox']);

/** The process runs this argv: the same arguments and the same program (any shell for a shell). */
function runsCommand(process: TetragonProcess, command: readonly string[]): boolean {
  if ((process.arguments ?? '') !== tetragonArguments(command)) return false;
  const wanted = basename(command[0] ?? '');
  const running = basename(process.binary ?? '');
  return wanted === running || (SHELL_NAMES.has(wanted) && SHELL_NAMES.has(running));
}

/**
 * The API's pod with what the agent saw itself of the container kept: its start (its init's
 * start; the API's startedAt is the runtime's, in whole seconds) and the process's pid inside
 * it (which the API does not know).
 */
function withObservedContainer(pod: TetragonPod, known: TetragonPod | undefined): TetragonPod {
  const observed = known?.container;
  if (observed?.start_time === undefined && observed?.pid === undefined) return pod;
  const container = { ...pod.container };
  if (observed.start_time !== undefined) container.start_time = observed.start_time;
  if (observed.pid !== undefined) container.pid = observed.pid;
  return { ...pod, container };
}

/** The namespaces of pid 1, the host's. */
function readHostNamespaces(): Map<string, number> {
  const names = ['pid', 'mnt', 'net', 'uts', 'ipc', 'cgroup', 'user'];
  const inums = new Map<string, number>();
  for (const name of names) {
    try {
      const link = readlinkSync(`/proc/1/ns/${name}`);
      inums.set(name, Number(/\[(\d+)\]/.exec(link)?.[1]));
    } catch {
      // Without access to pid 1 no namespace is called the host's.
    }
  }
  return inums;
}

/**
 * An address as Tetragon writes it. Tetragon formats with Go's net.IP, which prints an
 * IPv4-mapped IPv6 address (a Java or dual-stack socket talking to an IPv4 peer) as plain
 * IPv4: searches for the peer's IPv4 address must find those connections too.
 */
export function tetragonAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function stdioSockets(record: ExecRecord): NonNullable<TetragonProcess['stdio_sockets']> {
  const sockets: NonNullable<TetragonProcess['stdio_sockets']> = [];
  record.stdio.forEach((fd, n) => {
    if (!fd.isSocket || (fd.family !== AF_INET && fd.family !== AF_INET6)) return;
    const entry: (typeof sockets)[number] = {
      fd: n,
      family: fd.family === AF_INET6 ? 'AF_INET6' : 'AF_INET',
    };
    if (fd.peer) {
      entry.peer_address = tetragonAddress(fd.peer.address);
      entry.peer_port = fd.peer.port;
    }
    sockets.push(entry);
  });
  return sockets;
}

const OPEN_FLAG_NAMES: Array<[number, string]> = [
  [0o100, 'O_CREAT'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
];

/** O_RDONLY / O_WRONLY / O_RDWR and the flags a responder cares about. */
function openFlagsText(flags: number): string {
  const access = ['O_RDONLY', 'O_WRONLY', 'O_RDWR'][flags & 3] ?? 'O_RDONLY';
  return [access, ...OPEN_FLAG_NAMES.filter(([bit]) => flags & bit).map(([, name]) => name)].join(
    '|',
  );
}
