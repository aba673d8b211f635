/**
 * Byte layout of the kernel's records, mirrored from src/bpf/records.h (keep in sync:
 * layout.test.ts compiles that header with gcc and fails when an offset, a size or a constant
 * here drifts from it).
 */

/** Offsets of a C struct's fields, and its sizeof. */
export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
}

export const layouts = {
  pt_header: {
    size: 24,
    fields: { kind: 0, flags: 2, size: 4, ktime_ns: 8, pid: 16, tid: 20 },
  },
  pt_stdio: {
    size: 24,
    fields: { is_socket: 0, protocol: 1, family: 2, peer_port: 4, local_port: 6, peer_addr: 8 },
  },
  pt_file_id: {
    size: 32,
    fields: { ino: 0, mtime_sec: 8, size: 16, dev: 24, mtime_nsec: 28 },
  },
  pt_exec: {
    size: 248,
    fields: {
      header: 0,
      ppid: 24,
      uid: 28,
      euid: 32,
      gid: 36,
      auid: 40,
      argc: 44,
      start_ns: 48,
      parent_start_ns: 56,
      cap_permitted: 64,
      cap_effective: 72,
      cap_inheritable: 80,
      cgroup_id: 88,
      ns_pid: 96,
      ns_mnt: 100,
      ns_net: 104,
      ns_uts: 108,
      ns_ipc: 112,
      ns_cgroup: 116,
      ns_user: 120,
      pid_in_ns: 124,
      reserved2: 128,
      path_len: 132,
      filename_len: 134,
      args_len: 136,
      cwd_len: 138,
      cgroup_len: 140,
      reserved: 142,
      stdio: 144,
      binary_id: 216,
    },
  },
  pt_fork: {
    size: 48,
    fields: { header: 0, child_pid: 24, child_tid: 28, child_start_ns: 32, parent_start_ns: 40 },
  },
  pt_exit: {
    size: 40,
    fields: { header: 0, exit_code: 24, reserved: 28, start_ns: 32 },
  },
  pt_tuple: {
    size: 40,
    fields: {
      family: 0,
      protocol: 2,
      sock_type: 3,
      local_port: 4,
      remote_port: 6,
      local_addr: 8,
      remote_addr: 24,
    },
  },
  pt_sock: {
    size: 96,
    fields: {
      header: 0,
      cookie: 24,
      fd: 32,
      result: 36,
      tuple: 40,
      bytes_sent: 80,
      bytes_received: 88,
    },
  },
  pt_open: {
    size: 80,
    fields: {
      header: 0,
      result: 24,
      flags: 28,
      file_cookie: 32,
      path_len: 40,
      reserved: 42,
      file_id: 48,
    },
  },
  pt_io: {
    size: 48,
    fields: { header: 0, fd: 24, reserved: 28, result: 32, file_cookie: 40 },
  },
  pt_watch_pattern: {
    size: 136,
    fields: { len: 0, reserved: 4, text: 8 },
  },
  pt_watch_tops: {
    size: 40,
    fields: { bloom: 0, any: 32, reserved: 36 },
  },
  pt_config: {
    size: 16,
    fields: { self_tgid: 0, argv_limit: 4, hooks: 8, reserved: 12 },
  },
  pt_counters: {
    size: 192,
    fields: { drops: 0, errors: 96 },
  },
  pt_enforce: {
    size: 80,
    fields: {
      header: 0,
      policy: 24,
      action: 28,
      outcome: 30,
      result: 32,
      reserved: 36,
      tuple: 40,
    },
  },
  pt_policy_binary: {
    size: 256,
    fields: { text: 0 },
  },
  pt_binary_bits: {
    size: 8,
    fields: { ancestor: 0, process: 4 },
  },
  pt_scope: {
    size: 16,
    fields: { ancestors: 0, self_ancestor: 4, self_process: 8, reserved: 12 },
  },
  pt_policy_set: {
    size: 40,
    fields: {
      count: 0,
      on_exec: 4,
      on_connect: 8,
      has_process: 12,
      has_ancestor: 16,
      self_or_ancestor: 20,
      report_only: 24,
      dry_run: 28,
      allow_list: 32,
      reserved: 36,
    },
  },
  pt_policy: {
    size: 40,
    fields: { uid_count: 0, uids: 4, cgroup_level: 20, cgroup_id: 24, init_tree: 32, reserved: 36 },
  },
  pt_policy_cidr: {
    size: 24,
    fields: { prefixlen: 0, policy: 4, addr: 8 },
  },
  pt_policy_ports: {
    size: 18,
    fields: { port_count: 0, ports: 2 },
  },
} as const satisfies Record<string, StructLayout>;

/** enum pt_kind */
export const Kind = {
  exec: 1,
  fork: 2,
  exit: 3,
  connect: 4,
  accept: 5,
  close: 6,
  listen: 7,
  open: 8,
  read: 9,
  write: 10,
  enforce: 11,
} as const;

/** The constants of records.h, by their C names. */
export const constants = {
  PT_KIND_COUNT: 12,
  PT_FLAG_TRUNC_PATH: 1 << 0,
  PT_FLAG_TRUNC_FILENAME: 1 << 1,
  PT_FLAG_TRUNC_ARGS: 1 << 2,
  PT_FLAG_TRUNC_CWD: 1 << 3,
  PT_FLAG_TRUNC_CGROUP: 1 << 4,
  PT_FLAG_PARTIAL: 1 << 5,
  PT_FLAG_DELETED: 1 << 6,
  PT_FLAG_MEMFD: 1 << 7,
  PT_FLAG_HAS_BYTES: 1 << 8,
  PT_FLAG_LIBRARY: 1 << 9,
  PT_WATCH_MAX: 32,
  PT_WATCH_TEXT_MAX: 128,
  PT_WATCH_TOP_BYTES: 16,
  PT_PATH_MAX: 4096,
  PT_ARGS_MAX: 16384,
  PT_HOOK_NETWORK: 1 << 0,
  PT_HOOK_FILES: 1 << 1,
  PT_HOOK_LOADS: 1 << 2,
  PT_POLICY_MAX: 32,
  PT_POLICY_BINARY_MAX: 256,
  PT_POLICY_UIDS_MAX: 4,
  PT_INIT_TREE_ANY: 0,
  PT_INIT_TREE_INSIDE: 1,
  PT_INIT_TREE_OUTSIDE: 2,
  PT_INIT_TREE_DEPTH: 64,
  PT_POLICY_PORTS_MAX: 8,
  PT_ENFORCE_KILL: 1,
  PT_ENFORCE_DENY_CONNECT: 2,
  PT_OUTCOME_BLOCKED: 0,
  PT_OUTCOME_DRY_RUN: 1,
  PT_OUTCOME_ALERT: 2,
} as const;

/** Bits of pt_watch_pattern.reserved (src/bpf/match.h). */
export const watchFlags = { prefix: 1, wildcard: 2 } as const;
