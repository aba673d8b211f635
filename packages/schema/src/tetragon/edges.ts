import type { FileArg, KprobeArgument, SockArg } from './arguments';
import type { EventBody } from './events';
import type { ParsedEvent } from './parse';

/**
 * What an event says about the network and about files, read from the shapes Tetragon uses:
 * kprobe policies on tcp_connect/tcp_close/tcp_sendmsg with a `sock_arg`, syscalls with a
 * `sockaddr_arg`, file hooks with a `file_arg`/`path_arg`, and the legacy flat connection
 * kinds. Keep the function tables in sync with the agent's own event builder.
 */

export type NetworkOperation = 'connect' | 'accept' | 'close' | 'listen' | 'sendmsg' | 'recvmsg';

export interface NetworkEdge {
  /** A NetworkOperation, or the hook's name for hooks this table does not know. */
  type: NetworkOperation | string;
  family?: string;
  protocol?: string;
  saddr?: string;
  sport?: number;
  daddr?: string;
  dport?: number;
  /** The kernel socket's identity, a uint64 kept as a string. */
  cookie?: string;
  /** Bytes sent by this call, or sent over the connection's life on a close. */
  bytesSent?: number;
  bytesReceived?: number;
  state?: string;
}

export interface FileEdge {
  /** open, read, write, mmap, truncate, close, or the hook's name. */
  operation: string;
  path: string;
  bytes?: number;
  flags?: string;
}

const NETWORK_HOOKS: Record<string, NetworkOperation> = {
  tcp_connect: 'connect',
  tcp_v4_connect: 'connect',
  tcp_v6_connect: 'connect',
  ip4_datagram_connect: 'connect',
  security_socket_connect: 'connect',
  connect: 'connect',
  inet_csk_accept: 'accept',
  tcp_create_openreq_child: 'accept',
  accept: 'accept',
  accept4: 'accept',
  security_socket_accept: 'accept',
  tcp_close: 'close',
  __sk_free: 'close',
  inet_release: 'close',
  close: 'close',
  inet_csk_listen_start: 'listen',
  security_socket_listen: 'listen',
  listen: 'listen',
  tcp_sendmsg: 'sendmsg',
  udp_sendmsg: 'sendmsg',
  sendmsg: 'sendmsg',
  sendto: 'sendmsg',
  tcp_recvmsg: 'recvmsg',
  tcp_cleanup_rbuf: 'recvmsg',
  recvmsg: 'recvmsg',
  recvfrom: 'recvmsg',
};

const FILE_HOOKS: Record<string, string> = {
  fd_install: 'open',
  security_file_open: 'open',
  do_filp_open: 'open',
  open: 'open',
  openat: 'open',
  openat2: 'open',
  read: 'read',
  pread64: 'read',
  readv: 'read',
  vfs_read: 'read',
  security_kernel_read_file: 'read',
  write: 'write',
  pwrite64: 'write',
  writev: 'write',
  vfs_write: 'write',
  security_mmap_file: 'mmap',
  security_path_truncate: 'truncate',
  security_file_truncate: 'truncate',
  close: 'close',
  filp_close: 'close',
};

/** MAY_WRITE and MAY_READ of the kernel's permission mask (security_file_permission). */
const MAY_WRITE = 2;
const MAY_READ = 4;

/** `__x64_sys_openat`, `__arm64_sys_openat`, `sys_openat` -> `openat`. */
export function hookName(functionName: string): string {
  return functionName.replace(/^(__(x64|ia32|arm64|s390x|riscv)_)?(sys_|ksys_)/, '');
}

const IP_FAMILIES = new Set(['AF_INET', 'AF_INET6']);

function isIpSocket(sock: SockArg): boolean {
  if (sock.family && !IP_FAMILIES.has(sock.family)) return false;
  return (
    Boolean(sock.daddr && sock.daddr !== '<nil>') || Boolean(sock.saddr && sock.saddr !== '<nil>')
  );
}

function firstNumber(args: KprobeArgument[] | undefined): number | undefined {
  for (const arg of args ?? []) {
    if (arg.int_arg !== undefined) return arg.int_arg;
    if (arg.uint_arg !== undefined) return arg.uint_arg;
    if (arg.size_arg !== undefined) return Number(arg.size_arg);
    if (arg.long_arg !== undefined) return Number(arg.long_arg);
  }
  return undefined;
}

function returnValue(body: { return?: KprobeArgument }): number | undefined {
  return body.return ? firstNumber([body.return]) : undefined;
}

function edgeFromSock(type: string, sock: SockArg, bytes: number | undefined): NetworkEdge {
  const edge: NetworkEdge = { type };
  if (sock.family) edge.family = sock.family;
  if (sock.protocol) edge.protocol = sock.protocol;
  if (sock.saddr) edge.saddr = sock.saddr;
  if (sock.sport !== undefined) edge.sport = sock.sport;
  if (sock.daddr) edge.daddr = sock.daddr;
  if (sock.dport !== undefined) edge.dport = sock.dport;
  if (sock.cookie) edge.cookie = sock.cookie;
  if (sock.state) edge.state = sock.state;
  if (bytes !== undefined && bytes >= 0) {
    if (type === 'recvmsg') edge.bytesReceived = bytes;
    else if (type === 'sendmsg') edge.bytesSent = bytes;
  }
  return edge;
}

/**
 * Proctrail's own close events carry the connection's byte counters as size arguments
 * labelled `bytes_sent` and `bytes_received`.
 */
function withLabeledCounters(edge: NetworkEdge, args: KprobeArgument[]): NetworkEdge {
  for (const arg of args) {
    if (arg.size_arg === undefined) continue;
    if (arg.label === 'bytes_sent') edge.bytesSent = Number(arg.size_arg);
    if (arg.label === 'bytes_received') edge.bytesReceived = Number(arg.size_arg);
  }
  return edge;
}

function kprobeNetworkEdges(body: EventBody<'process_kprobe'>): NetworkEdge[] {
  const hook = hookName(body.function_name ?? '');
  const type = NETWORK_HOOKS[hook] ?? hook;
  const args = body.args ?? [];
  const edges: NetworkEdge[] = [];
  const bytes = returnValue(body) ?? firstNumber(args.filter((a) => !a.sock_arg && !a.label));
  for (const arg of args) {
    if (arg.sock_arg && isIpSocket(arg.sock_arg)) {
      edges.push(withLabeledCounters(edgeFromSock(type, arg.sock_arg, bytes), args));
    } else if (arg.sockaddr_arg?.addr && IP_FAMILIES.has(arg.sockaddr_arg.family ?? 'AF_INET')) {
      const edge: NetworkEdge = { type, daddr: arg.sockaddr_arg.addr };
      if (arg.sockaddr_arg.family) edge.family = arg.sockaddr_arg.family;
      if (arg.sockaddr_arg.port !== undefined) edge.dport = arg.sockaddr_arg.port;
      edges.push(edge);
    }
  }
  return edges;
}

function legacyNetworkEdge(
  type: NetworkOperation,
  body: EventBody<'process_connect'>,
): NetworkEdge {
  const edge: NetworkEdge = { type };
  if (body.protocol) edge.protocol = body.protocol;
  if (body.source_ip) edge.saddr = body.source_ip;
  if (body.source_port !== undefined) edge.sport = body.source_port;
  if (body.destination_ip) edge.daddr = body.destination_ip;
  if (body.destination_port !== undefined) edge.dport = body.destination_port;
  const family = body.destination_ip ?? body.source_ip;
  if (family) edge.family = family.includes(':') ? 'AF_INET6' : 'AF_INET';
  if (body.sock_cookie) edge.cookie = body.sock_cookie;
  if (body.stats?.bytes_sent !== undefined) edge.bytesSent = Number(body.stats.bytes_sent);
  if (body.stats?.bytes_received !== undefined)
    edge.bytesReceived = Number(body.stats.bytes_received);
  return edge;
}

/** The network edges an event describes; empty for events that are not about the network. */
export function networkEdgesOf(parsed: ParsedEvent): NetworkEdge[] {
  switch (parsed.kind) {
    case 'process_kprobe':
      return kprobeNetworkEdges(parsed.body as EventBody<'process_kprobe'>);
    case 'process_connect':
      return [legacyNetworkEdge('connect', parsed.body as EventBody<'process_connect'>)];
    case 'process_close':
      return [legacyNetworkEdge('close', parsed.body as EventBody<'process_close'>)];
    case 'process_listen':
      return [legacyNetworkEdge('listen', parsed.body as EventBody<'process_listen'>)];
    default:
      return [];
  }
}

/**
 * Older Tetragon builds printed file paths without their leading slash
 * ("usr/share/elasticsearch/..."); paths are made absolute so one search finds both.
 */
export function normalizeFilePath(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

function fileOperation(hook: string, args: KprobeArgument[]): string {
  if (hook === 'security_file_permission') {
    const mask = args.find((a) => a.int_arg !== undefined)?.int_arg ?? 0;
    if (mask & MAY_WRITE) return 'write';
    if (mask & MAY_READ) return 'read';
  }
  return FILE_HOOKS[hook] ?? hook;
}

/** Hooks whose return value or size argument counts the bytes read or written. */
const BYTE_COUNTING_HOOKS = new Set([
  'read',
  'pread64',
  'readv',
  'vfs_read',
  'write',
  'pwrite64',
  'writev',
  'vfs_write',
]);

function fileBytes(hook: string, body: EventBody<'process_kprobe'>): number | undefined {
  if (!BYTE_COUNTING_HOOKS.has(hook)) return undefined;
  // A negative return is an errno: the call failed and moved no bytes, whatever it asked for.
  const returned = returnValue(body);
  if (returned !== undefined) return returned >= 0 ? returned : undefined;
  const size = body.args?.find((a) => a.size_arg !== undefined)?.size_arg;
  return size === undefined ? undefined : Number(size);
}

function pathOf(arg: KprobeArgument): FileArg | undefined {
  return arg.file_arg ?? arg.path_arg ?? arg.linux_binprm_arg;
}

/** The file edges an event describes; empty for events that are not about files. */
export function fileEdgesOf(parsed: ParsedEvent): FileEdge[] {
  if (parsed.kind !== 'process_kprobe' && parsed.kind !== 'process_lsm') return [];
  const body = parsed.body as EventBody<'process_kprobe'>;
  const hook = hookName(body.function_name ?? '');
  const args = body.args ?? [];
  const operation = fileOperation(hook, args);

  const files = args.map(pathOf).filter((f): f is FileArg => Boolean(f?.path));
  if (files.length === 0 && FILE_HOOKS[hook] === 'open') {
    // Syscall hooks on open* carry the path as a plain string argument.
    const text = args.find((a) => a.string_arg?.startsWith('/'))?.string_arg;
    if (text) files.push({ path: text });
  }

  const bytes = fileBytes(hook, body);
  return files.map((file) => {
    const edge: FileEdge = { operation, path: normalizeFilePath(file.path!) };
    if (bytes !== undefined) edge.bytes = bytes;
    if (file.flags) edge.flags = file.flags;
    return edge;
  });
}
