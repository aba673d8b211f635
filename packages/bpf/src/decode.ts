/**
 * Bytes from the ring buffer to typed records. A batch holds records back to back, each
 * starting with pt_header whose `size` leads to the next. Everything here is attacker data
 * (argv, paths): it is read as bytes and decoded as UTF-8, never interpreted.
 */
import { formatIpv4, formatIpv6 } from './address';
import { Kind, constants, layouts } from './layout';
import type {
  EnforceRecord,
  Endpoint,
  ExecRecord,
  ExitRecord,
  FileIdentity,
  ForkRecord,
  IoRecord,
  LoadRecord,
  OpenRecord,
  RecordBase,
  SensorRecord,
  SocketKind,
  SocketRecord,
  StdioInfo,
} from './records';

const H = layouts.pt_header.fields;
const E = layouts.pt_exec.fields;
const S = layouts.pt_stdio.fields;
const F = layouts.pt_fork.fields;
const X = layouts.pt_exit.fields;
const K = layouts.pt_sock.fields;
const T = layouts.pt_tuple.fields;
const O = layouts.pt_open.fields;
const I = layouts.pt_io.fields;
const N = layouts.pt_enforce.fields;
const D = layouts.pt_file_id.fields;

const AF_INET = 2;
const AF_INET6 = 10;
const utf8 = new TextDecoder('utf-8');

/** What one record decoder sees: the batch, and where the record starts and ends. */
interface RecordView {
  bytes: Uint8Array;
  view: DataView;
  at: number;
  size: number;
}

type Decoder = (r: RecordView, base: RecordBase) => SensorRecord;

export interface DecodedBatch {
  records: SensorRecord[];
  /** Records that could not be decoded (unknown kind, bad size); decoding stops at the first
   * bad size because the next record's start is then unknown. */
  errors: number;
}

function u16(r: RecordView, offset: number): number {
  return r.view.getUint16(r.at + offset, true);
}
function u32(r: RecordView, offset: number): number {
  return r.view.getUint32(r.at + offset, true);
}
function s32(r: RecordView, offset: number): number {
  return r.view.getInt32(r.at + offset, true);
}
function u64(r: RecordView, offset: number): bigint {
  return r.view.getBigUint64(r.at + offset, true);
}
function text(r: RecordView, offset: number, length: number): string {
  const start = r.at + offset;
  return utf8.decode(r.bytes.subarray(start, start + length));
}

function decodeBase(r: RecordView): RecordBase {
  return {
    ktimeNs: u64(r, H.ktime_ns),
    pid: u32(r, H.pid),
    tid: u32(r, H.tid),
    flags: u16(r, H.flags),
  };
}

/** argv bytes are arguments each ended by a NUL; a truncated last one has none. */
function splitArgs(raw: string): string[] {
  if (raw.length === 0) return [];
  const parts = raw.split('\0');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function decodeStdio(r: RecordView, offset: number): StdioInfo {
  const family = u16(r, offset + S.family);
  const info: StdioInfo = {
    isSocket: r.bytes[r.at + offset + S.is_socket] === 1,
    family,
    protocol: r.bytes[r.at + offset + S.protocol]!,
  };
  if (family === AF_INET || family === AF_INET6) {
    const addrAt = r.at + offset + S.peer_addr;
    info.peer = {
      address: family === AF_INET ? formatIpv4(r.bytes, addrAt) : formatIpv6(r.bytes, addrAt),
      port: u16(r, offset + S.peer_port),
      localPort: u16(r, offset + S.local_port),
    };
  }
  return info;
}

/**
 * The kernel encodes a device as major << 20 | minor; stat(2) as glibc's makedev() does (what
 * Node's Stats.dev holds): the low 8 bits of the minor, then 12 bits of the major, then the
 * rest of the minor.
 */
function statDevice(kernelDevice: number): bigint {
  const major = BigInt(kernelDevice >>> 20);
  const minor = BigInt(kernelDevice & 0xfffff);
  return (
    ((major & 0xfffff000n) << 32n) |
    ((major & 0xfffn) << 8n) |
    ((minor & 0xffffff00n) << 12n) |
    (minor & 0xffn)
  );
}

function decodeFileIdentity(r: RecordView, offset: number): FileIdentity | undefined {
  const inode = u64(r, offset + D.ino);
  if (inode === 0n) return undefined;
  const seconds = r.view.getBigInt64(r.at + offset + D.mtime_sec, true);
  return {
    device: statDevice(u32(r, offset + D.dev)),
    inode,
    mtimeNs: seconds * 1_000_000_000n + BigInt(u32(r, offset + D.mtime_nsec)),
    size: u64(r, offset + D.size),
  };
}

function decodeExec(r: RecordView, base: RecordBase): ExecRecord {
  const lengths = [E.path_len, E.filename_len, E.args_len, E.cwd_len, E.cgroup_len].map((f) =>
    u16(r, f),
  );
  if (layouts.pt_exec.size + lengths.reduce((a, b) => a + b, 0) > r.size) {
    throw new RangeError(`exec record of ${r.size} bytes is shorter than its strings`);
  }
  const strings: string[] = [];
  let offset = layouts.pt_exec.size;
  for (const length of lengths) {
    strings.push(text(r, offset, length));
    offset += length;
  }
  const [binary, filename, args, cwd, cgroupPath] = strings as [
    string,
    string,
    string,
    string,
    string,
  ];
  const f = base.flags;
  const stdioSize = layouts.pt_stdio.size;

  const record: ExecRecord = {
    kind: 'exec',
    ...base,
    ppid: u32(r, E.ppid),
    startNs: u64(r, E.start_ns),
    parentStartNs: u64(r, E.parent_start_ns),
    uid: u32(r, E.uid),
    euid: u32(r, E.euid),
    gid: u32(r, E.gid),
    auid: u32(r, E.auid),
    binary,
    filename,
    argv: splitArgs(args),
    argc: u32(r, E.argc),
    cwd,
    cgroupPath,
    cgroupId: u64(r, E.cgroup_id),
    deleted: (f & constants.PT_FLAG_DELETED) !== 0,
    memfd: (f & constants.PT_FLAG_MEMFD) !== 0,
    capabilities: {
      permitted: u64(r, E.cap_permitted),
      effective: u64(r, E.cap_effective),
      inheritable: u64(r, E.cap_inheritable),
    },
    namespaces: {
      pid: u32(r, E.ns_pid),
      mnt: u32(r, E.ns_mnt),
      net: u32(r, E.ns_net),
      uts: u32(r, E.ns_uts),
      ipc: u32(r, E.ns_ipc),
      cgroup: u32(r, E.ns_cgroup),
      user: u32(r, E.ns_user),
    },
    pidInNamespace: u32(r, E.pid_in_ns),
    stdio: [
      decodeStdio(r, E.stdio),
      decodeStdio(r, E.stdio + stdioSize),
      decodeStdio(r, E.stdio + 2 * stdioSize),
    ],
    truncated: {
      binary: (f & constants.PT_FLAG_TRUNC_PATH) !== 0,
      filename: (f & constants.PT_FLAG_TRUNC_FILENAME) !== 0,
      argv: (f & constants.PT_FLAG_TRUNC_ARGS) !== 0,
      cwd: (f & constants.PT_FLAG_TRUNC_CWD) !== 0,
      cgroup: (f & constants.PT_FLAG_TRUNC_CGROUP) !== 0,
    },
    partial: (f & constants.PT_FLAG_PARTIAL) !== 0,
  };
  const binaryIdentity = decodeFileIdentity(r, E.binary_id);
  if (binaryIdentity) record.binaryIdentity = binaryIdentity;
  return record;
}

function decodeFork(r: RecordView, base: RecordBase): ForkRecord {
  return {
    kind: 'fork',
    ...base,
    childPid: u32(r, F.child_pid),
    childTid: u32(r, F.child_tid),
    childStartNs: u64(r, F.child_start_ns),
    parentStartNs: u64(r, F.parent_start_ns),
  };
}

function decodeExit(r: RecordView, base: RecordBase): ExitRecord {
  const rawStatus = u32(r, X.exit_code);
  return {
    kind: 'exit',
    ...base,
    exitCode: (rawStatus >> 8) & 0xff,
    signal: rawStatus & 0x7f,
    rawStatus,
    startNs: u64(r, X.start_ns),
  };
}

function endpoint(r: RecordView, family: number, addrField: number, portField: number): Endpoint {
  const at = r.at + K.tuple + addrField;
  return {
    address: family === AF_INET ? formatIpv4(r.bytes, at) : formatIpv6(r.bytes, at),
    port: u16(r, K.tuple + portField),
  };
}

function socketDecoder(kind: SocketKind): Decoder {
  return (r, base): SocketRecord => {
    const family = u16(r, K.tuple + T.family);
    const record: SocketRecord = {
      kind,
      ...base,
      cookie: u64(r, K.cookie),
      fd: s32(r, K.fd),
      result: s32(r, K.result),
      family: family === AF_INET ? 'ipv4' : 'ipv6',
      protocol: r.bytes[r.at + K.tuple + T.protocol]!,
      sockType: r.bytes[r.at + K.tuple + T.sock_type]!,
      local: endpoint(r, family, T.local_addr, T.local_port),
      remote: endpoint(r, family, T.remote_addr, T.remote_port),
    };
    if (base.flags & constants.PT_FLAG_HAS_BYTES) {
      record.bytesSent = u64(r, K.bytes_sent);
      record.bytesReceived = u64(r, K.bytes_received);
    }
    return record;
  };
}

/** pt_open carries both opens of watched paths and, flagged PT_FLAG_LIBRARY, library loads. */
function decodeOpen(r: RecordView, base: RecordBase): OpenRecord | LoadRecord {
  const pathLength = u16(r, O.path_len);
  if (layouts.pt_open.size + pathLength > r.size) {
    throw new RangeError(`open record of ${r.size} bytes is shorter than its path`);
  }
  if (base.flags & constants.PT_FLAG_LIBRARY) {
    const load: LoadRecord = {
      kind: 'load',
      ...base,
      path: text(r, layouts.pt_open.size, pathLength),
      fileCookie: u64(r, O.file_cookie),
    };
    const identity = decodeFileIdentity(r, O.file_id);
    if (identity) load.identity = identity;
    return load;
  }
  return {
    kind: 'open',
    ...base,
    path: text(r, layouts.pt_open.size, pathLength),
    flags: u32(r, O.flags),
    result: s32(r, O.result),
    fileCookie: u64(r, O.file_cookie),
  };
}

function ioDecoder(kind: 'read' | 'write'): Decoder {
  return (r, base): IoRecord => ({
    kind,
    ...base,
    fd: s32(r, I.fd),
    bytes: Number(r.view.getBigInt64(r.at + I.result, true)),
    fileCookie: u64(r, I.file_cookie),
  });
}

const ENFORCE_ACTIONS = new Map<number, EnforceRecord['action']>([
  [constants.PT_ENFORCE_KILL, 'kill'],
  [constants.PT_ENFORCE_DENY_CONNECT, 'deny-connect'],
]);
const ENFORCE_OUTCOMES = new Map<number, EnforceRecord['outcome']>([
  [constants.PT_OUTCOME_BLOCKED, 'blocked'],
  [constants.PT_OUTCOME_DRY_RUN, 'dry-run'],
  [constants.PT_OUTCOME_ALERT, 'alert'],
]);

function decodeEnforce(r: RecordView, base: RecordBase): EnforceRecord {
  const action = ENFORCE_ACTIONS.get(u16(r, N.action));
  const outcome = ENFORCE_OUTCOMES.get(u16(r, N.outcome));
  if (!action || !outcome) throw new RangeError('enforce record with an unknown action');
  const record: EnforceRecord = {
    kind: 'enforce',
    ...base,
    policyIndex: u32(r, N.policy),
    action,
    outcome,
    result: s32(r, N.result),
  };
  if (action === 'deny-connect') {
    const family = u16(r, N.tuple + T.family);
    const at = r.at + N.tuple + T.remote_addr;
    record.destination = {
      family: family === AF_INET ? 'ipv4' : 'ipv6',
      protocol: r.bytes[r.at + N.tuple + T.protocol]!,
      address: family === AF_INET ? formatIpv4(r.bytes, at) : formatIpv6(r.bytes, at),
      port: u16(r, N.tuple + T.remote_port),
    };
  }
  return record;
}

/** Decoders and the smallest valid size, by pt_kind. */
const decoders = new Map<number, { minSize: number; decode: Decoder }>([
  [Kind.exec, { minSize: layouts.pt_exec.size, decode: decodeExec }],
  [Kind.fork, { minSize: layouts.pt_fork.size, decode: decodeFork }],
  [Kind.exit, { minSize: layouts.pt_exit.size, decode: decodeExit }],
  [Kind.connect, { minSize: layouts.pt_sock.size, decode: socketDecoder('connect') }],
  [Kind.accept, { minSize: layouts.pt_sock.size, decode: socketDecoder('accept') }],
  [Kind.close, { minSize: layouts.pt_sock.size, decode: socketDecoder('close') }],
  [Kind.listen, { minSize: layouts.pt_sock.size, decode: socketDecoder('listen') }],
  [Kind.open, { minSize: layouts.pt_open.size, decode: decodeOpen }],
  [Kind.read, { minSize: layouts.pt_io.size, decode: ioDecoder('read') }],
  [Kind.write, { minSize: layouts.pt_io.size, decode: ioDecoder('write') }],
  [Kind.enforce, { minSize: layouts.pt_enforce.size, decode: decodeEnforce }],
]);

/** Decodes every record of a batch from the binding. */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: SensorRecord[] = [];
  let errors = 0;
  let at = 0;

  while (at + layouts.pt_header.size <= bytes.length) {
    const size = view.getUint32(at + H.size, true);
    if (size < layouts.pt_header.size || at + size > bytes.length) {
      errors++;
      break;
    }
    const entry = decoders.get(view.getUint16(at + H.kind, true));
    const r: RecordView = { bytes, view, at, size };
    if (!entry || size < entry.minSize) errors++;
    else {
      try {
        records.push(entry.decode(r, decodeBase(r)));
      } catch {
        errors++;
      }
    }
    at += size;
  }
  if (at < bytes.length && errors === 0) errors++;
  return { records, errors };
}
