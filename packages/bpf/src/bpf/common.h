/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers every hook family uses: identity of the current task, counters, headers. */
#ifndef PROCTRAIL_COMMON_H
#define PROCTRAIL_COMMON_H

#include "maps.h"

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000

static __always_inline void count_drop(__u32 kind) {
    __u32 zero = 0;
    struct pt_counters *c = bpf_map_lookup_elem(&counters, &zero);

    if (c && kind < PT_KIND_COUNT)
        c->drops[kind]++;
}

static __always_inline void count_error(__u32 kind) {
    __u32 zero = 0;
    struct pt_counters *c = bpf_map_lookup_elem(&counters, &zero);

    if (c && kind < PT_KIND_COUNT)
        c->errors[kind]++;
}

/* The agent's own syscalls would feed back into its own store: drop them at the source. */
static __always_inline bool is_self(__u32 tgid) {
    return pt_config.self_tgid != 0 && tgid == pt_config.self_tgid;
}

static __always_inline void fill_header(struct pt_header *h, __u16 kind, __u32 size) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();

    h->kind = kind;
    h->flags = 0;
    h->size = size;
    h->ktime_ns = bpf_ktime_get_boot_ns();
    h->pid = pid_tgid >> 32;
    h->tid = (__u32)pid_tgid;
}

static __always_inline void *record_buffer(void) {
    __u32 cpu = bpf_get_smp_processor_id();

    return bpf_map_lookup_elem(&record_scratch, &cpu);
}

/*
 * Wake the poll thread only once this much is waiting: a wakeup per record costs two context
 * switches, which a busy 2-core host pays for in its own work. Below this, user space finds the
 * records when its poll times out (at most ~10 ms later). Big enough to batch, small enough
 * that a burst never fills the ring before the reader is woken.
 */
#define PT_WAKEUP_BYTES (256 * 1024)

static __always_inline __u64 wakeup_flags(void) {
    if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= PT_WAKEUP_BYTES)
        return BPF_RB_FORCE_WAKEUP;
    return BPF_RB_NO_WAKEUP;
}

/* Sends a record built in record_scratch; size is bounded for the verifier. */
static __always_inline void submit_scratch(void *rec, __u32 size, __u32 kind) {
    if (size > PT_RECORD_MAX) {
        count_error(kind);
        return;
    }
    /* Keeps the bound visible to the verifier on whichever register the compiler uses. */
    barrier_var(size);
    size &= PT_SCRATCH_SIZE - 1;
    if (bpf_ringbuf_output(&events, rec, size, wakeup_flags()) != 0)
        count_drop(kind);
}

/* fd -> struct file of the current task, or NULL. Through the typed current task, so that the
 * walk to the fd table is plain guarded loads rather than six helper calls: a close, of any fd,
 * pays this. */
static __always_inline struct file *file_of_fd(__u32 fd) {
    struct task_struct *task = bpf_get_current_task_btf();
    struct fdtable *fdt = task->files->fdt;
    struct file **fds = fdt->fd;
    struct file *file = NULL;

    if (!fds || fd >= fdt->max_fds)
        return NULL;
    if (bpf_core_read(&file, sizeof(file), &fds[fd]) != 0)
        return NULL;
    return file;
}

static __always_inline bool file_is_socket(struct file *file) {
    umode_t mode = BPF_CORE_READ(file, f_inode, i_mode);

    return (mode & S_IFMT) == S_IFSOCK;
}

/* A socket file's private_data is its struct socket (sock_alloc_file). */
static __always_inline struct sock *sock_of_file(struct file *file) {
    struct socket *socket = BPF_CORE_READ(file, private_data);

    if (!socket)
        return NULL;
    return BPF_CORE_READ(socket, sk);
}

/* The modification time was one timespec64, i_mtime, before 6.6 and __i_mtime until 6.11;
 * since then it is i_mtime_sec and i_mtime_nsec. */
struct inode___mtime_timespec {
    struct timespec64 i_mtime;
} __attribute__((preserve_access_index));
struct inode___mtime_private {
    struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

/* A file's identity as stat(2) would give it (device, inode, modification time, size), read
 * from its inode: user space keys its hash cache on it without a stat of its own. */
static __always_inline void read_file_id(struct file *file, struct pt_file_id *out) {
    struct inode *inode = BPF_CORE_READ(file, f_inode);

    if (!inode)
        return;
    out->dev = BPF_CORE_READ(inode, i_sb, s_dev);
    out->size = BPF_CORE_READ(inode, i_size);
    if (bpf_core_field_exists(inode->i_mtime_sec)) {
        out->mtime_sec = BPF_CORE_READ(inode, i_mtime_sec);
        out->mtime_nsec = BPF_CORE_READ(inode, i_mtime_nsec);
    } else if (bpf_core_field_exists(((struct inode___mtime_private *)inode)->__i_mtime)) {
        struct timespec64 mtime = BPF_CORE_READ((struct inode___mtime_private *)inode, __i_mtime);

        out->mtime_sec = mtime.tv_sec;
        out->mtime_nsec = mtime.tv_nsec;
    } else {
        struct timespec64 mtime = BPF_CORE_READ((struct inode___mtime_timespec *)inode, i_mtime);

        out->mtime_sec = mtime.tv_sec;
        out->mtime_nsec = mtime.tv_nsec;
    }
    /* Last: a non-zero inode number says the other fields were read. */
    out->ino = BPF_CORE_READ(inode, i_ino);
}

#endif
