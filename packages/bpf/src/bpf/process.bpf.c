// SPDX-License-Identifier: GPL-2.0
/*
 * Process lifecycle: exec, fork and exit. tp_btf because kprobes, fentry and LSM programs do not
 * load on the target kernels, and these BTF tracepoints hand over typed task pointers.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "cgroup.h"
#include "exec_fields.h"
#include "path.h"
#include "policy.h"

/* Defined here, extern elsewhere: user space fills it in .rodata before load. */
const volatile struct pt_config pt_config = {
    .argv_limit = 4096,
    .hooks = PT_HOOK_NETWORK | PT_HOOK_FILES | PT_HOOK_LOADS,
};

#define MNT_INTERNAL 0x4000

/* Copies a walked path (path.h or cgroup.h) to the record; returns the bytes appended. */
static __always_inline __u32 append_walked(struct pt_exec *rec, __u32 off, long start,
                                           bool truncated, __u16 trunc_flag) {
    __u32 len;

    if (start < 0) {
        rec->header.flags |= PT_FLAG_PARTIAL;
        count_error(PT_KIND_EXEC);
        return 0;
    }
    if (truncated)
        rec->header.flags |= trunc_flag;
    len = copy_walked_path(rec, off, start);
    if (!len) {
        rec->header.flags |= PT_FLAG_PARTIAL;
        count_error(PT_KIND_EXEC);
    }
    return len;
}

/* A memfd is a file on the kernel's internal shmem mount whose name starts with "memfd:". */
static __always_inline bool is_memfd(struct file *file, long start) {
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    int mnt_flags = BPF_CORE_READ(file, f_path.mnt, mnt_flags);
    char prefix[7] = {};

    if (!buf || start < 0 || start > PT_PATH_MAX - 7 || !(mnt_flags & MNT_INTERNAL))
        return false;
    __builtin_memcpy(prefix, &buf->bytes[(start + 1) & (PT_PATH_MAX - 1)], 6);
    return prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
           prefix[4] == 'd' && prefix[5] == ':';
}

static __always_inline __u32 append_binary(struct pt_exec *rec, __u32 off, struct task_struct *task,
                                           struct linux_binprm *bprm) {
    struct file *file = BPF_CORE_READ(bprm, file);
    struct path root = BPF_CORE_READ(task, fs, root);
    struct path path = BPF_CORE_READ(file, f_path);
    bool truncated = false;
    long start = walk_path(&path, &root, &truncated);

    if (BPF_CORE_READ(file, f_inode, i_nlink) == 0)
        rec->header.flags |= PT_FLAG_DELETED;
    read_file_id(file, &rec->binary_id);
    if (is_memfd(file, start))
        rec->header.flags |= PT_FLAG_MEMFD;
    return append_walked(rec, off, start, truncated, PT_FLAG_TRUNC_PATH);
}

static __always_inline __u32 append_filename(struct pt_exec *rec, __u32 off,
                                             struct linux_binprm *bprm) {
    const char *filename = BPF_CORE_READ(bprm, filename);
    long n =
        bpf_probe_read_kernel_str((void *)rec + (off & PT_SCRATCH_MASK), PT_PATH_MAX, filename);

    if (n <= 0) {
        rec->header.flags |= PT_FLAG_PARTIAL;
        count_error(PT_KIND_EXEC);
        return 0;
    }
    if (n == PT_PATH_MAX)
        rec->header.flags |= PT_FLAG_TRUNC_FILENAME;
    return n - 1;
}

/* argv as the new image sees it: the block between mm->arg_start and arg_end on its stack. */
static __always_inline __u32 append_args(struct pt_exec *rec, __u32 off, struct task_struct *task) {
    struct mm_struct *mm = BPF_CORE_READ(task, mm);
    unsigned long start = BPF_CORE_READ(mm, arg_start);
    unsigned long end = BPF_CORE_READ(mm, arg_end);
    __u32 limit = pt_config.argv_limit;
    __u32 len;

    if (end <= start)
        return 0;
    len = end - start;
    if (limit > PT_ARGS_MAX)
        limit = PT_ARGS_MAX;
    if (len > limit) {
        len = limit;
        rec->header.flags |= PT_FLAG_TRUNC_ARGS;
    }
    /* The mask changes nothing (len <= PT_ARGS_MAX) but lets the verifier see the bound on the
     * 64-bit register the compiler picked. */
    if (bpf_probe_read_user((void *)rec + (off & PT_SCRATCH_MASK), len & PT_SCRATCH_MASK,
                            (void *)start)) {
        rec->header.flags |= PT_FLAG_PARTIAL;
        count_error(PT_KIND_EXEC);
        return 0;
    }
    return len;
}

static __always_inline __u32 append_cwd(struct pt_exec *rec, __u32 off, struct task_struct *task) {
    struct path root = BPF_CORE_READ(task, fs, root);
    struct path pwd = BPF_CORE_READ(task, fs, pwd);
    bool truncated = false;
    long start = walk_path(&pwd, &root, &truncated);

    return append_walked(rec, off, start, truncated, PT_FLAG_TRUNC_CWD);
}

static __always_inline __u32 append_cgroup(struct pt_exec *rec, __u32 off,
                                           struct task_struct *task) {
    bool truncated = false;
    long start = walk_cgroup(task, &truncated);

    return append_walked(rec, off, start, truncated, PT_FLAG_TRUNC_CGROUP);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
    struct pt_exec *rec = record_buffer();
    __u32 off = sizeof(*rec);

    if (!rec) {
        count_error(PT_KIND_EXEC);
        return 0;
    }
    if (is_self(BPF_CORE_READ(task, tgid)))
        return 0;

    __builtin_memset(rec, 0, sizeof(*rec));
    fill_header(&rec->header, PT_KIND_EXEC, 0);
    fill_identity(rec, task);
    fill_namespaces(rec, task);
    fill_stdio(rec);
    rec->argc = BPF_CORE_READ(bprm, argc);

    rec->path_len = append_binary(rec, off, task, bprm);
    off += rec->path_len;
    rec->filename_len = append_filename(rec, off, bprm);
    off += rec->filename_len;
    rec->args_len = append_args(rec, off, task);
    off += rec->args_len;
    rec->cwd_len = append_cwd(rec, off, task);
    off += rec->cwd_len;
    rec->cgroup_len = append_cgroup(rec, off, task);
    off += rec->cgroup_len;

    rec->header.size = off;
    submit_scratch(rec, off, PT_KIND_EXEC);
    /* After the exec record, so that the enforcement follows the exec it is about. The record
     * scratch still holds the binary's path. */
    policy_on_exec(task, bprm, (void *)rec + sizeof(*rec), rec->path_len);
    return 0;
}

/* Processes only: a clone with CLONE_THREAD shares the parent's tgid. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child) {
    __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
    __u32 child_tgid = BPF_CORE_READ(child, tgid);
    struct pt_fork *rec;

    if (child_tgid == parent_tgid)
        return 0;
    /* Before the self check: a policy's scope follows every process, the agent's too. */
    policy_on_fork(parent_tgid, child_tgid);
    if (is_self(parent_tgid))
        return 0;

    rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
    if (!rec) {
        count_drop(PT_KIND_FORK);
        return 0;
    }
    fill_header(&rec->header, PT_KIND_FORK, sizeof(*rec));
    rec->child_pid = child_tgid;
    rec->child_tid = BPF_CORE_READ(child, pid);
    rec->child_start_ns = BPF_CORE_READ(child, start_boottime);
    rec->parent_start_ns = BPF_CORE_READ(parent, group_leader, start_boottime);
    bpf_ringbuf_submit(rec, wakeup_flags());
    return 0;
}

/* group_dead is true for the last thread of the group only: one exit record per process. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead) {
    __u32 tgid = BPF_CORE_READ(task, tgid);
    struct pt_exit *rec;

    if (!group_dead)
        return 0;
    policy_on_exit(tgid);
    if (is_self(tgid))
        return 0;

    rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
    if (!rec) {
        count_drop(PT_KIND_EXIT);
        return 0;
    }
    fill_header(&rec->header, PT_KIND_EXIT, sizeof(*rec));
    rec->exit_code = BPF_CORE_READ(task, exit_code);
    rec->reserved = 0;
    rec->start_ns = BPF_CORE_READ(task, group_leader, start_boottime);
    bpf_ringbuf_submit(rec, wakeup_flags());
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
