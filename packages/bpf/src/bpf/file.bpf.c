// SPDX-License-Identifier: GPL-2.0
/*
 * Files: opens of watched paths, and reads and writes on the fds those opens returned.
 *
 * open: the syscall's exit gives the fd; fd -> struct file -> path walked in the kernel is the
 * path actually opened (symlinks and relative names resolved), matched against watch_patterns.
 * A failed open has no file: its absolute name, as given, is matched instead.
 * read/write: gated by watched_fds, filled at open and cleared at close, so unwatched fds cost
 * one hash lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "common.h"
#include "match.h"
#include "path.h"
#include "syscalls.h"

struct pending_open {
    __u64 filename; /* user pointer */
    __u32 flags;
    __u32 reserved;
};

struct fd_key {
    __u32 tgid;
    __s32 fd;
};

struct pending_io {
    __u64 file;
    __s32 fd;
    __u32 kind;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct pending_open);
} pending_open SEC(".maps");

/* Limitation: an fd inherited over fork or dup'd is not watched in its new place; an entry
 * whose process exits without close stays until LRU eviction, and is ignored if the fd then
 * names another file (the struct file is compared at each read and write). */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct fd_key);
    __type(value, __u64);
} watched_fds SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct pending_io);
} pending_io SEC(".maps");

static __always_inline void remember_open(__u64 filename, __u32 flags) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_open entry = {.filename = filename, .flags = flags};

    if (is_self(pid_tgid >> 32))
        return;
    if (bpf_map_update_elem(&pending_open, &pid_tgid, &entry, BPF_ANY))
        count_error(PT_KIND_OPEN);
}

/* openat2 passes its flags inside struct open_how. */
static __always_inline __u32 openat2_flags(__u64 how_ptr) {
    struct open_how how = {};

    if (bpf_probe_read_user(&how, sizeof(how), (void *)how_ptr))
        return 0;
    return (__u32)how.flags;
}

/* The path of the opened file, walked from its dentry; [start, end) in path_scratch. */
static __always_inline bool opened_path(__s32 fd, __u32 *start, __u32 *end, __u64 *file_cookie) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct file *file = file_of_fd(task, fd);
    struct path root = BPF_CORE_READ(task, fs, root);
    struct path path;
    bool truncated = false;
    long pos;

    if (!file)
        return false;
    path = BPF_CORE_READ(file, f_path);
    pos = walk_path(&path, &root, &truncated);
    if (pos < 0 || truncated)
        return false;
    *start = pos;
    *end = PT_PATH_MAX;
    *file_cookie = (__u64)file;
    return true;
}

/* A failed open has no file: its name as given, when absolute. */
static __always_inline bool requested_path(__u64 filename, __u32 *start, __u32 *end) {
    __u32 zero = 0;
    struct pt_path_scratch *buf = bpf_map_lookup_elem(&path_scratch, &zero);
    long n;

    if (!buf)
        return false;
    n = bpf_probe_read_user_str(&buf->bytes[PT_USER_PATH_START], PT_PATH_MAX, (void *)filename);
    if (n <= 1 || buf->bytes[PT_USER_PATH_START] != '/')
        return false;
    *start = PT_USER_PATH_START;
    *end = PT_USER_PATH_START + n - 1;
    return true;
}

static __always_inline void send_open(struct pending_open *pending, __s32 result, __u32 start,
                                      __u32 end, __u64 file_cookie) {
    struct pt_open *rec = record_buffer();
    __u32 len;

    if (!rec) {
        count_error(PT_KIND_OPEN);
        return;
    }
    __builtin_memset(rec, 0, sizeof(*rec));
    fill_header(&rec->header, PT_KIND_OPEN, 0);
    rec->result = result;
    rec->flags = pending->flags;
    rec->file_cookie = file_cookie;
    len = copy_scratch_path(rec, sizeof(*rec), start, end - start);
    if (!len) {
        count_error(PT_KIND_OPEN);
        return;
    }
    rec->path_len = len;
    rec->header.size = sizeof(*rec) + len;
    submit_scratch(rec, sizeof(*rec) + len, PT_KIND_OPEN);
}

static __always_inline void watch_fd(__s32 fd, __u64 file_cookie) {
    struct fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};

    if (bpf_map_update_elem(&watched_fds, &key, &file_cookie, BPF_ANY))
        count_error(PT_KIND_OPEN);
}

static __always_inline void finish_open(long ret) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_open *found = bpf_map_lookup_elem(&pending_open, &pid_tgid);
    struct pending_open pending;
    __s32 result = (__s32)ret;
    __u64 file_cookie = 0;
    __u32 start = 0, end = 0;

    if (!found)
        return;
    pending = *found;
    bpf_map_delete_elem(&pending_open, &pid_tgid);

    if (result >= 0 && !opened_path(result, &start, &end, &file_cookie))
        return;
    if (result < 0 && !requested_path(pending.filename, &start, &end))
        return;
    if (!path_is_watched(start, end))
        return;

    send_open(&pending, result, start, end, file_cookie);
    if (result >= 0)
        watch_fd(result, file_cookie);
}

static __always_inline void forget_fd(__s32 fd) {
    struct fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};

    bpf_map_delete_elem(&watched_fds, &key);
}

/* Entry of read/write and their variants: is this fd watched, and still the same file? */
static __always_inline void io_enter(__s32 fd, __u32 kind) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct fd_key key = {.tgid = pid_tgid >> 32, .fd = fd};
    __u64 *watched = bpf_map_lookup_elem(&watched_fds, &key);
    struct task_struct *task;
    struct pending_io io;

    if (!watched)
        return;
    task = (struct task_struct *)bpf_get_current_task();
    io.file = (__u64)file_of_fd(task, key.fd);
    if (io.file != *watched) {
        bpf_map_delete_elem(&watched_fds, &key);
        return;
    }
    io.fd = key.fd;
    io.kind = kind;
    if (bpf_map_update_elem(&pending_io, &pid_tgid, &io, BPF_ANY))
        count_error(kind);
}

static __always_inline void io_exit(long ret) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_io *found = bpf_map_lookup_elem(&pending_io, &pid_tgid);
    struct pending_io io;
    struct pt_io *rec;

    if (!found)
        return;
    io = *found;
    bpf_map_delete_elem(&pending_io, &pid_tgid);

    rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
    if (!rec) {
        count_drop(io.kind);
        return;
    }
    fill_header(&rec->header, io.kind, sizeof(*rec));
    rec->fd = io.fd;
    rec->reserved = 0;
    rec->result = ret;
    rec->file_cookie = io.file;
    bpf_ringbuf_submit(rec, wakeup_flags());
}

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_file_sys_enter, struct pt_regs *regs, long id) {
    switch (id) {
    case NR_openat:
        remember_open(SYSCALL_ARG2(regs), SYSCALL_ARG3(regs));
        break;
    case NR_open:
        remember_open(SYSCALL_ARG1(regs), SYSCALL_ARG2(regs));
        break;
    case NR_openat2:
        remember_open(SYSCALL_ARG2(regs), openat2_flags(SYSCALL_ARG3(regs)));
        break;
    case NR_close:
        forget_fd((__s32)SYSCALL_ARG1(regs));
        break;
    case NR_read:
    case NR_pread64:
    case NR_readv:
        io_enter((__s32)SYSCALL_ARG1(regs), PT_KIND_READ);
        break;
    case NR_write:
    case NR_pwrite64:
    case NR_writev:
        io_enter((__s32)SYSCALL_ARG1(regs), PT_KIND_WRITE);
        break;
    }
    return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_file_sys_exit, struct pt_regs *regs, long ret) {
    switch (syscall_nr(regs)) {
    case NR_openat:
    case NR_open:
    case NR_openat2:
        finish_open(ret);
        break;
    case NR_read:
    case NR_pread64:
    case NR_readv:
    case NR_write:
    case NR_pwrite64:
    case NR_writev:
        io_exit(ret);
        break;
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
