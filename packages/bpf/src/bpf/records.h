/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records the BPF programs write to the ring buffer: the one definition of their layout.
 * Keep in sync with src/layout.ts; src/layout.test.ts compiles this header with gcc and fails
 * when an offset or a size drifts.
 *
 * Only __u8.. __u64 types are used so that the header compiles both against vmlinux.h (BPF)
 * and against <linux/types.h> (user space, the layout test).
 */
#ifndef PROCTRAIL_RECORDS_H
#define PROCTRAIL_RECORDS_H

enum pt_kind {
    PT_KIND_EXEC = 1,
    PT_KIND_FORK = 2,
    PT_KIND_EXIT = 3,
    PT_KIND_CONNECT = 4,
    PT_KIND_ACCEPT = 5,
    PT_KIND_CLOSE = 6,
    PT_KIND_LISTEN = 7,
    PT_KIND_OPEN = 8,
    PT_KIND_READ = 9,
    PT_KIND_WRITE = 10,
    PT_KIND_ENFORCE = 11,
    PT_KIND_COUNT = 12,
};

/* pt_header.flags: truncation of variable data, said in the record itself. */
#define PT_FLAG_TRUNC_PATH (1 << 0)
#define PT_FLAG_TRUNC_FILENAME (1 << 1)
#define PT_FLAG_TRUNC_ARGS (1 << 2)
#define PT_FLAG_TRUNC_CWD (1 << 3)
#define PT_FLAG_TRUNC_CGROUP (1 << 4)
/* A helper failed while the record was built: some fields are zero or empty. */
#define PT_FLAG_PARTIAL (1 << 5)
/* exec: the executable had no links left (deleted), or was a memfd. */
#define PT_FLAG_DELETED (1 << 6)
#define PT_FLAG_MEMFD (1 << 7)
/* close: bytes_sent/bytes_received come from tcp_sock (TCP only). */
#define PT_FLAG_HAS_BYTES (1 << 8)
/* open: a library load (loads.h), not an open of a watched path. */
#define PT_FLAG_LIBRARY (1 << 9)

/* Every record starts with this header; records follow each other without padding in a batch
 * from the binding, so `size` is what moves the decoder to the next one. */
struct pt_header {
    __u16 kind;
    __u16 flags;
    __u32 size;     /* bytes of the whole record, this header included */
    __u64 ktime_ns; /* bpf_ktime_get_boot_ns(): CLOCK_BOOTTIME, what Tetragon's exec_id uses */
    __u32 pid;      /* thread group id of the task the record is about */
    __u32 tid;
};

/* One of fds 0, 1 and 2 at exec: a socket to a network peer there marks a reverse shell. */
struct pt_stdio {
    __u8 is_socket;
    __u8 protocol; /* IPPROTO_* */
    __u16 family;  /* AF_*; only AF_INET and AF_INET6 fill the ports and the address */
    __u16 peer_port;
    __u16 local_port;
    __u8 peer_addr[16]; /* network order; IPv4 in the first 4 bytes */
};

/*
 * What user space keys its file hash cache on, read from the inode the kernel had in hand: no
 * stat of the file afterwards. ino 0: not read (no inode, or a helper failed).
 */
struct pt_file_id {
    __u64 ino;
    __s64 mtime_sec;
    __u64 size;
    __u32 dev; /* the superblock's s_dev, in the kernel's encoding: major << 20 | minor */
    __u32 mtime_nsec;
};

/* exec: followed by path, filename, args, cwd and cgroup bytes, in that order, without NULs
 * except between arguments. */
struct pt_exec {
    struct pt_header header;
    __u32 ppid;
    __u32 uid;
    __u32 euid;
    __u32 gid;
    __u32 auid;
    __u32 argc;
    __u64 start_ns;        /* task start_boottime: when the process was forked */
    __u64 parent_start_ns; /* start_boottime of the parent's thread group leader */
    __u64 cap_permitted;
    __u64 cap_effective;
    __u64 cap_inheritable;
    __u64 cgroup_id;
    __u32 ns_pid;
    __u32 ns_mnt;
    __u32 ns_net;
    __u32 ns_uts;
    __u32 ns_ipc;
    __u32 ns_cgroup;
    __u32 ns_user;
    __u32 pid_in_ns; /* the pid as the task's own pid namespace numbers it: 1 for its init */
    __u32 reserved2;
    __u16 path_len;     /* the executable file, walked from its dentry and mount */
    __u16 filename_len; /* the name exec was given (a script's name, possibly relative) */
    __u16 args_len;     /* argv[0..], each argument ended by a NUL */
    __u16 cwd_len;
    __u16 cgroup_len;
    __u16 reserved;
    struct pt_stdio stdio[3];
    struct pt_file_id binary_id; /* the executable file (bprm->file) */
};

/* fork of a new process (threads are skipped); the header names the parent. */
struct pt_fork {
    struct pt_header header;
    __u32 child_pid;
    __u32 child_tid;
    __u64 child_start_ns; /* start_boottime of the child */
    __u64 parent_start_ns;
};

/* exit of a whole process, once, when its last thread leaves. */
struct pt_exit {
    struct pt_header header;
    __u32 exit_code; /* task->exit_code: status << 8 | signal */
    __u32 reserved;
    __u64 start_ns;
};

/* A socket's addresses; ports in host order, addresses in network order. */
struct pt_tuple {
    __u16 family;
    __u8 protocol;
    __u8 sock_type;
    __u16 local_port;
    __u16 remote_port;
    __u8 local_addr[16];
    __u8 remote_addr[16];
};

/* connect, accept, close and listen of a socket. */
struct pt_sock {
    struct pt_header header;
    __u64 cookie; /* the kernel's struct sock address: the same for the socket's whole life */
    __s32 fd;
    __s32 result; /* the syscall's return: 0 or -errno (connect, listen), the new fd (accept) */
    struct pt_tuple tuple;
    __u64 bytes_sent;
    __u64 bytes_received;
};

/* open of a watched path: followed by path_len bytes of the path. */
struct pt_open {
    struct pt_header header;
    __s32 result; /* the new fd, or -errno */
    __u32 flags;  /* O_* flags as passed */
    __u64 file_cookie;
    __u16 path_len;
    __u16 reserved[3];
    struct pt_file_id file_id; /* library loads only; zero for opens of watched paths */
};

/* read or write on an fd opened from a watched path. */
struct pt_io {
    struct pt_header header;
    __s32 fd;
    __s32 reserved;
    __s64 result; /* bytes moved, or -errno */
    __u64 file_cookie;
};

/* A watched path as the kernel matches it: a trailing '/' makes a prefix, a '*' matches exactly
 * one path component. */
#define PT_WATCH_MAX 32
#define PT_WATCH_TEXT_MAX 128
struct pt_watch_pattern {
    __u32 len; /* 0: unused slot */
    __u32 reserved;
    char text[PT_WATCH_TEXT_MAX];
};

/*
 * The first components of the watched patterns, as a Bloom filter: an open whose path's first
 * component is not in it cannot match any pattern, and is dropped before its path is built.
 * A component's hash: FNV-1a (32 bits) of its length, capped at PT_WATCH_TOP_BYTES + 1, then of
 * its first PT_WATCH_TOP_BYTES bytes at most, then murmur3's finalizer; its bits 0-7 and 8-15
 * are the component's two bits among bloom's 256.
 * `any`: some pattern's first component has a '*' (or is empty), so every path may match.
 */
#define PT_WATCH_TOP_BYTES 16
struct pt_watch_tops {
    __u64 bloom[4];
    __u32 any;
    __u32 reserved;
};

/* pt_config.hooks: the syscall hook families turned on. */
#define PT_HOOK_NETWORK (1 << 0)
#define PT_HOOK_FILES (1 << 1)
#define PT_HOOK_LOADS (1 << 2)

/* Set by user space before load (read-only to the programs). */
struct pt_config {
    __u32 self_tgid;  /* records of this process are dropped: the agent watching itself loops */
    __u32 argv_limit; /* bytes of argv copied at exec, at most PT_ARGS_MAX */
    __u32 hooks;      /* PT_HOOK_* bits */
    __u32 reserved;
};

/* The per-CPU counters: drops are ring buffer reservations that failed, errors are helpers
 * that failed; both indexed by pt_kind. */
struct pt_counters {
    __u64 drops[PT_KIND_COUNT];
    __u64 errors[PT_KIND_COUNT];
};

#define PT_PATH_MAX 4096
#define PT_ARGS_MAX 16384

/*
 * Prevention policies, compiled by user space (src/policy.ts) into the maps of policy.h. A
 * policy is one bit of a __u32 mask, its index in the `policies` map.
 */
#define PT_POLICY_MAX 32
#define PT_POLICY_BINARY_MAX 256
#define PT_POLICY_UIDS_MAX 4
/* pt_policy.init_tree: whether the process descends, inside its pid namespace, from that
 * namespace's init (a container's own processes), or was entered into it from outside
 * (nsenter, `kubectl exec`, `docker exec`); any: not a condition. */
#define PT_INIT_TREE_ANY 0
#define PT_INIT_TREE_INSIDE 1
#define PT_INIT_TREE_OUTSIDE 2
/* How far up the parent chain the init tree is looked for. */
#define PT_INIT_TREE_DEPTH 64

/* pt_enforce.action */
#define PT_ENFORCE_KILL 1
#define PT_ENFORCE_DENY_CONNECT 2
/* pt_enforce.outcome: blocked, or reported only (dry run, or a policy whose action is alert) */
#define PT_OUTCOME_BLOCKED 0
#define PT_OUTCOME_DRY_RUN 1
#define PT_OUTCOME_ALERT 2

/* An enforcement: a process killed at exec, a connect refused, or what would have been. */
struct pt_enforce {
    struct pt_header header;
    __u32 policy;  /* the policy's index; user space keeps the names */
    __u16 action;  /* PT_ENFORCE_* */
    __u16 outcome; /* PT_OUTCOME_* */
    __s32 result;  /* bpf_send_signal's return for a kill: 0, or -errno when it failed */
    __u32 reserved;
    struct pt_tuple tuple; /* connect: the destination asked for (remote_*), ports host order */
};

/* Key of policy_binaries: a basename or an absolute path, zero-padded. */
struct pt_policy_binary {
    char text[PT_POLICY_BINARY_MAX];
};

/* Value of policy_binaries: the policies whose ancestor / process selector names the binary. */
struct pt_binary_bits {
    __u32 ancestor;
    __u32 process;
};

/*
 * Value of policy_scope, per process (tgid): which policies' binaries its ancestors' images
 * and its own image matched. Inherited at fork; at exec the old image becomes an ancestor.
 */
struct pt_scope {
    __u32 ancestors;     /* some strict ancestor's image matched the ancestor selector */
    __u32 self_ancestor; /* this image matches the ancestor selector */
    __u32 self_process;  /* this image matches the process selector */
    __u32 reserved;
};

/* The one entry of policy_set: masks over every loaded policy, so hooks decide with a few ANDs. */
struct pt_policy_set {
    __u32 count; /* 0: no policy, every policy hook returns at once */
    __u32 on_exec;
    __u32 on_connect;
    __u32 has_process;      /* the policy names process binaries */
    __u32 has_ancestor;     /* the policy names ancestor binaries */
    __u32 self_or_ancestor; /* the ancestor selector also matches the process itself */
    __u32 report_only;      /* dry run or alert: record, never block */
    __u32 dry_run;
    __u32 allow_list; /* connect: listed destinations are allowed, others denied */
    __u32 reserved;
};

/* Per-policy conditions checked after the masks: uids, a cgroup subtree. */
struct pt_policy {
    __u32 uid_count; /* 0: any uid */
    __u32 uids[PT_POLICY_UIDS_MAX];
    __u32 cgroup_level; /* depth of the cgroup below the v2 root; with cgroup_id 0: any */
    __u64 cgroup_id;
    __u32 init_tree; /* PT_INIT_TREE_* */
    __u32 reserved;
};

/* Key of policy_cidrs (an LPM trie): the policy's index then the address, IPv4 as ::ffff:a.b.c.d.
 */
struct pt_policy_cidr {
    __u32 prefixlen; /* 32 (the policy) + the CIDR's bits in the IPv6 space */
    __u32 policy;
    __u8 addr[16];
};

/* Value of policy_cidrs: the ports of the destination; port_count 0 is any port. */
#define PT_POLICY_PORTS_MAX 8
struct pt_policy_ports {
    __u16 port_count;
    __u16 ports[PT_POLICY_PORTS_MAX];
};

#endif
