/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prevention: kill at exec, refuse a connect. User space compiles policies into these maps
 * (src/policy.ts) before the hooks attach; the structs are in records.h.
 *
 * Why these hooks: kprobes, fentry and BPF LSM do not load on the target kernels. A SIGKILL sent
 * from tp_btf/sched_process_exec is pending when the task returns to user space, so the new
 * image never runs an instruction (not even its dynamic loader). A cgroup connect4/connect6
 * program that returns 0 makes connect() fail with EPERM before any packet leaves.
 *
 * Who a policy applies to is decided with bit masks: each process (tgid) with anything in scope
 * has a pt_scope, inherited at fork and shifted at exec (the old image becomes an ancestor), so
 * an exec or a connect costs one hash lookup and a few ANDs, and nothing at all without policies.
 */
#ifndef PROCTRAIL_POLICY_H
#define PROCTRAIL_POLICY_H

#include "common.h"

#define SIGKILL 9

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pt_policy_set);
} policy_set SEC(".maps") __weak;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, PT_POLICY_MAX);
    __type(key, __u32);
    __type(value, struct pt_policy);
} policies SEC(".maps") __weak;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct pt_policy_binary);
    __type(value, struct pt_binary_bits);
} policy_binaries SEC(".maps") __weak;

/* Not an LRU: an evicted entry would silently take a process out of a policy's reach. A full
 * map is counted as an enforce error instead. */
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct pt_scope);
} policy_scope SEC(".maps") __weak;

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 4096);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct pt_policy_cidr);
    __type(value, struct pt_policy_ports);
} policy_cidrs SEC(".maps") __weak;

/* The lookup key of policy_binaries is too big for the stack beside an exec's locals. */
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct pt_policy_binary);
} policy_key_scratch SEC(".maps") __weak;

static __always_inline struct pt_policy_set *active_policies(void) {
    __u32 zero = 0;
    struct pt_policy_set *set = bpf_map_lookup_elem(&policy_set, &zero);

    return set && set->count ? set : NULL;
}

/* The policies whose binary selectors the process satisfies; uid and cgroup come after. */
static __always_inline __u32 policies_selecting(struct pt_policy_set *set, struct pt_scope *scope) {
    __u32 process = scope->self_process | ~set->has_process;
    __u32 ancestor =
        scope->ancestors | (scope->self_ancestor & set->self_or_ancestor) | ~set->has_ancestor;

    /* Every policy names a binary (user space enforces it): a process with an empty scope is
     * selected by none, however the masks fall. */
    return process & ancestor & (set->has_process | set->has_ancestor);
}

/* The pid namespace depth of a task: 0 in the host's, one more per namespace below it. */
static __always_inline unsigned int pid_ns_level(struct task_struct *task) {
    return BPF_CORE_READ(task, thread_pid, level);
}

/*
 * Whether the current process descends, inside its pid namespace, from that namespace's init:
 * walking up the parents, the namespace's child reaper comes before any process of an outer
 * namespace. A process entered from outside (nsenter, or runc for `kubectl exec`) has such a
 * parent; so do its own children. Host processes descend from pid 1, the host's init. A parent
 * is never in a deeper namespace than its child, so a lower level means an outer namespace.
 * Processes are compared by their group leaders: real_parent is the thread that forked, and
 * the reaper is a process. A chain deeper than PT_INIT_TREE_DEPTH is not known to reach the
 * init: outside.
 */
static __always_inline bool current_in_init_tree(void) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    unsigned int level = pid_ns_level(task);
    struct pid *pid = BPF_CORE_READ(task, thread_pid);
    struct task_struct *reaper, *parent;
    struct upid upid;

    if (bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level & 31]))
        return false;
    reaper = BPF_CORE_READ(upid.ns, child_reaper);
    task = BPF_CORE_READ(task, group_leader);
    for (int i = 0; i < PT_INIT_TREE_DEPTH; i++) {
        if (task == reaper)
            return true;
        parent = BPF_CORE_READ(task, real_parent, group_leader);
        /* The idle task is its own parent: the top, passed without meeting the reaper. */
        if (!parent || parent == task || pid_ns_level(parent) < level)
            return false;
        task = parent;
    }
    return false;
}

static __always_inline bool policy_conditions_hold(__u32 index) {
    struct pt_policy *policy = bpf_map_lookup_elem(&policies, &index);
    __u32 uid = (__u32)bpf_get_current_uid_gid();
    bool uid_ok;

    if (!policy)
        return false;
    uid_ok = policy->uid_count == 0;
    for (int i = 0; i < PT_POLICY_UIDS_MAX; i++) {
        if (i < policy->uid_count && policy->uids[i] == uid)
            uid_ok = true;
    }
    if (!uid_ok)
        return false;
    if (policy->cgroup_id &&
        bpf_get_current_ancestor_cgroup_id(policy->cgroup_level) != policy->cgroup_id)
        return false;
    if (policy->init_tree != PT_INIT_TREE_ANY &&
        current_in_init_tree() != (policy->init_tree == PT_INIT_TREE_INSIDE))
        return false;
    return true;
}

static __always_inline __u16 outcome_of(struct pt_policy_set *set, __u32 bit) {
    if (!(set->report_only & bit))
        return PT_OUTCOME_BLOCKED;
    return (set->dry_run & bit) ? PT_OUTCOME_DRY_RUN : PT_OUTCOME_ALERT;
}

static __always_inline void emit_enforce(__u32 index, __u16 action, __u16 outcome, __s32 result,
                                         struct pt_tuple *tuple) {
    struct pt_enforce *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);

    if (!rec) {
        count_drop(PT_KIND_ENFORCE);
        return;
    }
    fill_header(&rec->header, PT_KIND_ENFORCE, sizeof(*rec));
    rec->policy = index;
    rec->action = action;
    rec->outcome = outcome;
    rec->result = result;
    rec->reserved = 0;
    if (tuple)
        rec->tuple = *tuple;
    else
        __builtin_memset(&rec->tuple, 0, sizeof(rec->tuple));
    /* A block is news a responder waits for: do not leave it for the next poll timeout. */
    bpf_ringbuf_submit(rec, outcome == PT_OUTCOME_BLOCKED ? BPF_RB_FORCE_WAKEUP : wakeup_flags());
}

/* The policy bits a binary's basename or absolute path carries (policy_binaries). */
static __always_inline struct pt_binary_bits binary_bits(struct linux_binprm *bprm,
                                                         const void *path, __u32 path_len) {
    __u32 zero = 0;
    struct pt_policy_binary *key = bpf_map_lookup_elem(&policy_key_scratch, &zero);
    struct pt_binary_bits bits = {};
    struct pt_binary_bits *found;
    const unsigned char *name = BPF_CORE_READ(bprm, file, f_path.dentry, d_name.name);

    if (!key)
        return bits;
    __builtin_memset(key, 0, sizeof(*key));
    if (bpf_probe_read_kernel_str(key->text, sizeof(key->text), name) > 0) {
        found = bpf_map_lookup_elem(&policy_binaries, key);
        if (found)
            bits = *found;
    }
    /* Paths of PT_POLICY_BINARY_MAX bytes or more cannot be named by a policy (user space
     * rejects them), so they match by basename only. */
    if (path_len == 0 || path_len >= PT_POLICY_BINARY_MAX)
        return bits;
    __builtin_memset(key, 0, sizeof(*key));
    barrier_var(path_len);
    if (bpf_probe_read_kernel(key->text, path_len & (PT_POLICY_BINARY_MAX - 1), path) == 0) {
        found = bpf_map_lookup_elem(&policy_binaries, key);
        if (found) {
            bits.ancestor |= found->ancestor;
            bits.process |= found->process;
        }
    }
    return bits;
}

static __always_inline void store_scope(__u32 tgid, struct pt_scope *scope, bool had_one) {
    if (scope->ancestors | scope->self_ancestor | scope->self_process) {
        if (bpf_map_update_elem(&policy_scope, &tgid, scope, BPF_ANY))
            count_error(PT_KIND_ENFORCE);
    } else if (had_one) {
        bpf_map_delete_elem(&policy_scope, &tgid);
    }
}

/*
 * At exec, in the context of the task that exec'd: updates its scope with the new image, then
 * kills it if an exec policy selects it. `path` is the walked binary path.
 */
static __always_inline void policy_on_exec(struct task_struct *task, struct linux_binprm *bprm,
                                           const void *path, __u32 path_len) {
    struct pt_policy_set *set = active_policies();
    __u32 tgid = BPF_CORE_READ(task, tgid);
    struct pt_scope *old;
    struct pt_scope scope = {};
    struct pt_binary_bits bits;
    __u32 selected;

    if (!set)
        return;
    old = bpf_map_lookup_elem(&policy_scope, &tgid);
    if (old)
        scope.ancestors = old->ancestors | old->self_ancestor;
    bits = binary_bits(bprm, path, path_len);
    scope.self_ancestor = bits.ancestor;
    scope.self_process = bits.process;
    store_scope(tgid, &scope, old != NULL);

    selected = policies_selecting(set, &scope) & set->on_exec;
    if (!selected)
        return;
    for (__u32 i = 0; i < PT_POLICY_MAX; i++) {
        __u32 bit = 1u << i;
        __u16 outcome;
        __s32 result = 0;

        if (!(selected & bit) || !policy_conditions_hold(i))
            continue;
        outcome = outcome_of(set, bit);
        if (outcome == PT_OUTCOME_BLOCKED)
            result = bpf_send_signal(SIGKILL);
        emit_enforce(i, PT_ENFORCE_KILL, outcome, result, NULL);
        /* One kill is enough; report-only policies before it have been reported. */
        if (outcome == PT_OUTCOME_BLOCKED && result == 0)
            break;
    }
}

/* At fork of a new process: the child starts with its parent's image as its own. */
static __always_inline void policy_on_fork(__u32 parent_tgid, __u32 child_tgid) {
    struct pt_scope *parent;
    struct pt_scope child;

    if (!active_policies())
        return;
    parent = bpf_map_lookup_elem(&policy_scope, &parent_tgid);
    if (!parent)
        return;
    child.ancestors = parent->ancestors | parent->self_ancestor;
    child.self_ancestor = parent->self_ancestor;
    child.self_process = parent->self_process;
    child.reserved = 0;
    store_scope(child_tgid, &child, false);
}

static __always_inline void policy_on_exit(__u32 tgid) {
    if (active_policies())
        bpf_map_delete_elem(&policy_scope, &tgid);
}

static __always_inline bool port_listed(struct pt_policy_ports *ports, __u16 port) {
    if (ports->port_count == 0)
        return true;
    for (int i = 0; i < PT_POLICY_PORTS_MAX; i++) {
        if (i < ports->port_count && ports->ports[i] == port)
            return true;
    }
    return false;
}

/*
 * At connect, in the caller's context: 1 lets it go on, 0 refuses it (EPERM). `dest` holds the
 * destination, IPv4 in the first 4 bytes of remote_addr when family is AF_INET.
 */
static __always_inline int policy_on_connect(struct pt_tuple *dest) {
    struct pt_policy_set *set = active_policies();
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct pt_policy_cidr key = {.prefixlen = 32 + 128};
    struct pt_scope *scope;
    __u32 selected;

    if (!set)
        return 1;
    scope = bpf_map_lookup_elem(&policy_scope, &tgid);
    if (!scope)
        return 1;
    selected = policies_selecting(set, scope) & set->on_connect;
    if (!selected)
        return 1;

    if (dest->family == AF_INET) {
        key.addr[10] = 0xff;
        key.addr[11] = 0xff;
        __builtin_memcpy(&key.addr[12], dest->remote_addr, 4);
    } else {
        __builtin_memcpy(key.addr, dest->remote_addr, 16);
    }
    for (__u32 i = 0; i < PT_POLICY_MAX; i++) {
        __u32 bit = 1u << i;
        struct pt_policy_ports *ports;
        bool listed, denied;
        __u16 outcome;

        if (!(selected & bit) || !policy_conditions_hold(i))
            continue;
        key.policy = i;
        ports = bpf_map_lookup_elem(&policy_cidrs, &key);
        listed = ports && port_listed(ports, dest->remote_port);
        denied = (set->allow_list & bit) ? !listed : listed;
        if (!denied)
            continue;
        outcome = outcome_of(set, bit);
        emit_enforce(i, PT_ENFORCE_DENY_CONNECT, outcome, outcome == PT_OUTCOME_BLOCKED ? -1 : 0,
                     dest);
        if (outcome == PT_OUTCOME_BLOCKED)
            return 0;
    }
    return 1;
}

#endif
