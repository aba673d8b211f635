/**
 * Prevention policies as the kernel holds them (src/bpf/policy.h): what a policy says, reduced
 * to binary names, masks, uids, a cgroup and destination ranges, and its encoding into the
 * policy maps. The YAML language and its checks live with the agent; this is the contract.
 */
import { basename } from 'node:path';
import { constants, layouts } from './layout';
import type { SnapshotProcess } from './snapshot';

/**
 * A destination range of a connect policy, in the IPv6 space (IPv4 as ::ffff:a.b.c.d, its
 * prefix length plus 96), and ports (none: any).
 */
export interface KernelDestination {
  /** 16 bytes, network order. */
  address: readonly number[];
  /** 0..128 */
  prefixLength: number;
  ports: readonly number[];
}

/** One policy, in the terms the kernel can check. */
export interface KernelPolicy {
  /** Acts at exec (kill) or at connect (refuse). */
  on: 'exec' | 'connect';
  /**
   * Binaries the process itself must run: a basename ("bash") or an absolute path. Empty: any
   * process that the ancestor selector selects.
   */
  processBinaries: readonly string[];
  /** Binaries one of the process's ancestors must have run; empty: no ancestor condition. */
  ancestorBinaries: readonly string[];
  /** The ancestor selector also selects the process running that binary itself. */
  ancestorIncludesSelf?: boolean;
  /** Real uids, one of which the process must have; empty or absent: any. */
  uids?: readonly number[];
  /** A cgroup v2 directory (its id, and its depth below the root) the process must be in. */
  cgroup?: { id: bigint; level: number };
  /**
   * `inside`: the process descends, within its pid namespace, from that namespace's init (a
   * container's own processes; on the host, everything under pid 1). `outside`: it was entered
   * into its pid namespace from an outer one (nsenter, `kubectl exec`), or descends from such
   * a process. Absent: either.
   */
  initTree?: 'inside' | 'outside';
  /** Record what would have been blocked, block nothing. */
  dryRun?: boolean;
  /** Only report (exec `alert`, connect `alert`): never blocks, not a dry run either. */
  alertOnly?: boolean;
  /**
   * Connect: `allow` denies every destination but these; `deny` denies these. Required for
   * connect policies.
   */
  destinations?: { mode: 'allow' | 'deny'; ranges: readonly KernelDestination[] };
}

/** The policy maps' entries, keys and values back to back (updatePolicyMap's arguments). */
export interface EncodedPolicyMap {
  keys: Buffer;
  values: Buffer;
}

export interface EncodedPolicies {
  policy_set: EncodedPolicyMap;
  policies: EncodedPolicyMap;
  policy_binaries: EncodedPolicyMap;
  policy_cidrs: EncodedPolicyMap;
}

const INIT_TREE_CODES = {
  inside: constants.PT_INIT_TREE_INSIDE,
  outside: constants.PT_INIT_TREE_OUTSIDE,
} as const;

function u32Key(value: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(value);
  return key;
}

/** Checks what the kernel's layout cannot hold; the error names the policy and the field. */
export function validateKernelPolicies(policies: readonly KernelPolicy[]): void {
  if (policies.length > constants.PT_POLICY_MAX) {
    throw new RangeError(
      `${policies.length} policies; the kernel holds ${constants.PT_POLICY_MAX}`,
    );
  }
  policies.forEach((policy, index) => {
    const where = `policies[${index}]`;
    if (policy.processBinaries.length === 0 && policy.ancestorBinaries.length === 0) {
      throw new RangeError(`${where} names no binary: it would select every process`);
    }
    for (const binary of [...policy.processBinaries, ...policy.ancestorBinaries]) {
      if (!binary || binary.includes('\0') || (binary.includes('/') && !binary.startsWith('/'))) {
        throw new RangeError(`${where}: ${JSON.stringify(binary)} is not a basename or a path`);
      }
      if (Buffer.byteLength(binary) >= constants.PT_POLICY_BINARY_MAX) {
        throw new RangeError(`${where}: ${binary} is longer than the kernel matches`);
      }
    }
    if ((policy.uids?.length ?? 0) > constants.PT_POLICY_UIDS_MAX) {
      throw new RangeError(`${where} lists more than ${constants.PT_POLICY_UIDS_MAX} uids`);
    }
    if (policy.on === 'connect' && !policy.destinations) {
      throw new RangeError(`${where} is a connect policy without destinations`);
    }
    for (const range of policy.destinations?.ranges ?? []) {
      if (range.address.length !== 16 || range.prefixLength < 0 || range.prefixLength > 128) {
        throw new RangeError(`${where}: a destination is not 16 bytes and a prefix of 0..128`);
      }
      if (range.ports.length > constants.PT_POLICY_PORTS_MAX) {
        throw new RangeError(`${where}: more than ${constants.PT_POLICY_PORTS_MAX} ports`);
      }
    }
  });
}

function contains(
  outer: { bytes: readonly number[]; bits: number },
  inner: { bytes: readonly number[]; bits: number },
): boolean {
  if (outer.bits > inner.bits) return false;
  for (let bit = 0; bit < outer.bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((outer.bytes[bit >> 3]! & mask) !== (inner.bytes[bit >> 3]! & mask)) return false;
  }
  return true;
}

/**
 * The trie answers with the longest prefix only, so each range carries the ports of every
 * listed range that contains it: "10.0.0.0/8 any port" and "10.1.0.0/16 port 443" make
 * 10.1.2.3:80 listed, as the list says.
 */
function cidrEntries(index: number, ranges: readonly KernelDestination[]): EncodedPolicyMap {
  const parsed = ranges.map((range) => ({
    bytes: range.address,
    bits: range.prefixLength,
    ports: range.ports,
  }));
  const cidr = layouts.pt_policy_cidr;
  const ports = layouts.pt_policy_ports;
  const keys: Buffer[] = [];
  const values: Buffer[] = [];
  for (const range of parsed) {
    const containing = parsed.filter((other) => contains(other, range));
    const anyPort = containing.some((other) => other.ports.length === 0);
    const portList = [...new Set(containing.flatMap((other) => other.ports))];
    if (!anyPort && portList.length > constants.PT_POLICY_PORTS_MAX) {
      throw new RangeError(
        `policies[${index}]: ${portList.length} ports apply to one range; at most ` +
          `${constants.PT_POLICY_PORTS_MAX}`,
      );
    }
    const key = Buffer.alloc(cidr.size);
    key.writeUInt32LE(32 + range.bits, cidr.fields.prefixlen);
    key.writeUInt32LE(index, cidr.fields.policy);
    Buffer.from(range.bytes).copy(key, cidr.fields.addr);
    const value = Buffer.alloc(ports.size);
    if (!anyPort) {
      value.writeUInt16LE(portList.length, ports.fields.port_count);
      portList.forEach((port, i) => value.writeUInt16LE(port, ports.fields.ports + i * 2));
    }
    keys.push(key);
    values.push(value);
  }
  return { keys: Buffer.concat(keys), values: Buffer.concat(values) };
}

function binaryKey(binary: string): Buffer {
  const key = Buffer.alloc(layouts.pt_policy_binary.size);
  key.write(binary, 0, 'utf8');
  return key;
}

/** Encodes the policies for the kernel; validates them first (RangeError). */
export function encodePolicies(policies: readonly KernelPolicy[]): EncodedPolicies {
  validateKernelPolicies(policies);
  const S = layouts.pt_policy_set.fields;
  const P = layouts.pt_policy.fields;
  const set = Buffer.alloc(layouts.pt_policy_set.size);
  const masks = {
    on_exec: 0,
    on_connect: 0,
    has_process: 0,
    has_ancestor: 0,
    self_or_ancestor: 0,
    report_only: 0,
    dry_run: 0,
    allow_list: 0,
  };
  const bitsByBinary = new Map<string, { ancestor: number; process: number }>();
  const policyValues: Buffer[] = [];
  const cidrs: EncodedPolicyMap[] = [];

  policies.forEach((policy, index) => {
    const bit = (1 << index) >>> 0;
    const add = (mask: keyof typeof masks, when: boolean) => {
      if (when) masks[mask] = (masks[mask] | bit) >>> 0;
    };
    add(policy.on === 'exec' ? 'on_exec' : 'on_connect', true);
    add('has_process', policy.processBinaries.length > 0);
    add('has_ancestor', policy.ancestorBinaries.length > 0);
    add('self_or_ancestor', policy.ancestorIncludesSelf === true);
    add('report_only', policy.dryRun === true || policy.alertOnly === true);
    add('dry_run', policy.dryRun === true);
    add('allow_list', policy.destinations?.mode === 'allow');
    for (const [list, field] of [
      [policy.processBinaries, 'process'],
      [policy.ancestorBinaries, 'ancestor'],
    ] as const) {
      for (const binary of list) {
        const bits = bitsByBinary.get(binary) ?? { ancestor: 0, process: 0 };
        bits[field] = (bits[field] | bit) >>> 0;
        bitsByBinary.set(binary, bits);
      }
    }

    const value = Buffer.alloc(layouts.pt_policy.size);
    const uids = policy.uids ?? [];
    value.writeUInt32LE(uids.length, P.uid_count);
    uids.forEach((uid, i) => value.writeUInt32LE(uid, P.uids + i * 4));
    if (policy.cgroup) {
      value.writeUInt32LE(policy.cgroup.level, P.cgroup_level);
      value.writeBigUInt64LE(policy.cgroup.id, P.cgroup_id);
    }
    const initTree = policy.initTree
      ? INIT_TREE_CODES[policy.initTree]
      : constants.PT_INIT_TREE_ANY;
    value.writeUInt32LE(initTree, P.init_tree);
    policyValues.push(value);
    if (policy.destinations) cidrs.push(cidrEntries(index, policy.destinations.ranges));
  });

  set.writeUInt32LE(policies.length, S.count);
  for (const [name, mask] of Object.entries(masks)) {
    set.writeUInt32LE(mask, S[name as keyof typeof masks]);
  }
  const binaryValues = [...bitsByBinary.values()].map((bits) => {
    const value = Buffer.alloc(layouts.pt_binary_bits.size);
    value.writeUInt32LE(bits.ancestor, layouts.pt_binary_bits.fields.ancestor);
    value.writeUInt32LE(bits.process, layouts.pt_binary_bits.fields.process);
    return value;
  });
  return {
    policy_set: { keys: u32Key(0), values: set },
    policies: {
      keys: Buffer.concat(policyValues.map((_, i) => u32Key(i))),
      values: Buffer.concat(policyValues),
    },
    policy_binaries: {
      keys: Buffer.concat([...bitsByBinary.keys()].map(binaryKey)),
      values: Buffer.concat(binaryValues),
    },
    policy_cidrs: {
      keys: Buffer.concat(cidrs.map((c) => c.keys)),
      values: Buffer.concat(cidrs.map((c) => c.values)),
    },
  };
}

/**
 * The scopes of processes already running when the policies were loaded, computed from the
 * start-up snapshot the way the kernel would have, had it seen them start: parents first, each
 * image's bits by basename or path. Limitation: a process that forks between the hooks'
 * attach and this write starts with an empty scope.
 */
export function snapshotScopes(
  policies: readonly KernelPolicy[],
  snapshot: readonly SnapshotProcess[],
): EncodedPolicyMap {
  const bitsOf = (binary: string) => {
    let ancestor = 0;
    let process = 0;
    policies.forEach((policy, index) => {
      const bit = (1 << index) >>> 0;
      const names = (list: readonly string[]) =>
        list.includes(binary) || list.includes(basename(binary));
      if (names(policy.ancestorBinaries)) ancestor = (ancestor | bit) >>> 0;
      if (names(policy.processBinaries)) process = (process | bit) >>> 0;
    });
    return { ancestor, process };
  };
  interface Scope {
    ancestors: number;
    ancestor: number;
    process: number;
  }
  const byPid = new Map(snapshot.map((p) => [p.pid, p]));
  const scopes = new Map<number, Scope>();
  const scopeOf = (proc: SnapshotProcess, depth: number): Scope => {
    const known = scopes.get(proc.pid);
    if (known) return known;
    const parent = byPid.get(proc.ppid);
    const above: Scope | undefined =
      parent && parent.pid !== proc.pid && depth < 4096 ? scopeOf(parent, depth + 1) : undefined;
    const own = proc.kernelThread ? { ancestor: 0, process: 0 } : bitsOf(proc.binary);
    const scope: Scope = {
      ancestors: above ? (above.ancestors | above.ancestor) >>> 0 : 0,
      ...own,
    };
    scopes.set(proc.pid, scope);
    return scope;
  };
  const keys: Buffer[] = [];
  const values: Buffer[] = [];
  const F = layouts.pt_scope.fields;
  for (const proc of snapshot) {
    const scope = scopeOf(proc, 0);
    if (!(scope.ancestors | scope.ancestor | scope.process)) continue;
    const value = Buffer.alloc(layouts.pt_scope.size);
    value.writeUInt32LE(scope.ancestors, F.ancestors);
    value.writeUInt32LE(scope.ancestor, F.self_ancestor);
    value.writeUInt32LE(scope.process, F.self_process);
    keys.push(u32Key(proc.pid));
    values.push(value);
  }
  return { keys: Buffer.concat(keys), values: Buffer.concat(values) };
}
