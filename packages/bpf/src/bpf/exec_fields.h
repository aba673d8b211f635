/* SPDX-License-Identifier: Apache-2.0 */
/* The fixed fields of an exec record: identity, credentials, namespaces, stdio sockets. */
#ifndef PROCTRAIL_EXEC_FIELDS_H
#define PROCTRAIL_EXEC_FIELDS_H

#include "common.h"
#include "sock.h"

static __always_inline void fill_identity(struct pt_exec *rec, struct task_struct *task) {
    struct task_struct *parent = BPF_CORE_READ(task, real_parent);
    const struct cred *cred = BPF_CORE_READ(task, cred);

    rec->ppid = BPF_CORE_READ(parent, tgid);
    rec->parent_start_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
    rec->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
    rec->uid = BPF_CORE_READ(cred, uid.val);
    rec->euid = BPF_CORE_READ(cred, euid.val);
    rec->gid = BPF_CORE_READ(cred, gid.val);
    rec->cap_permitted = BPF_CORE_READ(cred, cap_permitted.val);
    rec->cap_effective = BPF_CORE_READ(cred, cap_effective.val);
    rec->cap_inheritable = BPF_CORE_READ(cred, cap_inheritable.val);
    rec->ns_user = BPF_CORE_READ(cred, user_ns, ns.inum);
    /* loginuid exists only with CONFIG_AUDITSYSCALL; -1 (unset) otherwise, as the kernel says. */
    if (bpf_core_field_exists(task->loginuid))
        rec->auid = BPF_CORE_READ(task, loginuid.val);
    else
        rec->auid = (__u32)-1;
    rec->cgroup_id = bpf_get_current_cgroup_id();
}

static __always_inline void fill_namespaces(struct pt_exec *rec, struct task_struct *task) {
    struct nsproxy *ns = BPF_CORE_READ(task, nsproxy);
    struct pid *pid = BPF_CORE_READ(task, thread_pid);
    unsigned int level = BPF_CORE_READ(pid, level);
    struct upid upid = {};

    rec->ns_mnt = BPF_CORE_READ(ns, mnt_ns, ns.inum);
    rec->ns_net = BPF_CORE_READ(ns, net_ns, ns.inum);
    rec->ns_uts = BPF_CORE_READ(ns, uts_ns, ns.inum);
    rec->ns_ipc = BPF_CORE_READ(ns, ipc_ns, ns.inum);
    rec->ns_cgroup = BPF_CORE_READ(ns, cgroup_ns, ns.inum);

    /* The task's own pid namespace is the one at its pid's deepest level (task_active_pid_ns);
     * nsproxy->pid_ns_for_children is where its children will go, not where it is. */
    rec->pid_in_ns = 0;
    rec->reserved2 = 0;
    if (bpf_core_read(&upid, sizeof(upid), &pid->numbers[level & 31]) == 0) {
        rec->ns_pid = BPF_CORE_READ(upid.ns, ns.inum);
        rec->pid_in_ns = upid.nr;
    } else {
        rec->header.flags |= PT_FLAG_PARTIAL;
    }
}

/* fds 0 to 2 after exec (close-on-exec fds are already gone at this tracepoint, which runs in
 * the context of the task that exec'd: its fds are the current task's). */
static __always_inline void fill_stdio_one(struct pt_stdio *out, __u32 fd) {
    struct file *file = file_of_fd(fd);
    struct sock *sk;

    if (!file || !file_is_socket(file))
        return;
    out->is_socket = 1;
    sk = sock_of_file(file);
    if (!sk)
        return;
    out->family = BPF_CORE_READ(sk, __sk_common.skc_family);
    out->protocol = BPF_CORE_READ(sk, sk_protocol);
    if (out->family != AF_INET && out->family != AF_INET6)
        return;

    struct pt_tuple tuple = {};
    read_tuple(sk, &tuple);
    out->peer_port = tuple.remote_port;
    out->local_port = tuple.local_port;
    __builtin_memcpy(out->peer_addr, tuple.remote_addr, sizeof(out->peer_addr));
}

static __always_inline void fill_stdio(struct pt_exec *rec) {
    fill_stdio_one(&rec->stdio[0], 0);
    fill_stdio_one(&rec->stdio[1], 1);
    fill_stdio_one(&rec->stdio[2], 2);
}

#endif
