/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Files: opens of watched paths, and reads and writes on the fds those opens returned.
 *
 * open: the syscall's exit gives the fd; fd -> struct file -> path walked in the kernel is the
 * path actually opened (symlinks and relative names resolved), matched against watch_patterns.
 * Before the walk, the path's first component (found by following dentry pointers, no name
 * copied) is checked against the patterns' first components (watch_tops): most opens stop there.
 * A failed open has no file: its absolute name, as given, is matched instead. The name and the
 * flags are read at exit from the syscall's argument registers, which the syscall leaves as they
 * were: no state is kept between entry and exit.
 * read/write: gated by watched_fds, filled at open and cleared at close; while that map is empty
 * (watched_fd_count), a read or a write costs one load. The syscalls are dispatched from
 * syscalls.bpf.c.
 */
#ifndef PROCTRAIL_FILE_H
#define PROCTRAIL_FILE_H

#include "common.h"
#include "loads.h"
#include "match.h"
#include "path.h"
#include "syscalls.h"

struct fd_key {
    __u32 tgid;
    __s32 fd;
};

struct pending_io {
    __u64 file;
    __s32 fd;
    __u32 kind;
};

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

/* openat2 passes its flags inside struct open_how. */
static __always_inline __u32 openat2_flags(__u64 how_ptr) {
    struct open_how how = {};

    if (bpf_probe_read_user(&how, sizeof(how), (void *)how_ptr))
        return 0;
    return (__u32)how.flags;
}

/* The path of the opened file, walked from its dentry; [start, end) in path_scratch. */
static __always_inline bool opened_path(struct file *file, __u32 *start, __u32 *end) {
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct path root = BPF_CORE_READ(task, fs, root);
    struct path path;
    bool truncated = false;
    long pos;

    path = BPF_CORE_READ(file, f_path);
    pos = walk_path(&path, &root, &truncated);
    if (pos < 0 || truncated)
        return false;
    *start = pos;
    *end = PT_PATH_MAX;
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

static __always_inline void send_open(__u32 flags, __s32 result, __u32 start, __u32 end,
                                      struct file *file, __u16 record_flags) {
    struct pt_open *rec = record_buffer();
    __u32 len;

    if (!rec) {
        count_error(PT_KIND_OPEN);
        return;
    }
    __builtin_memset(rec, 0, sizeof(*rec));
    fill_header(&rec->header, PT_KIND_OPEN, 0);
    rec->header.flags = record_flags;
    rec->result = result;
    rec->flags = flags;
    rec->file_cookie = (__u64)file;
    if (file && (record_flags & PT_FLAG_LIBRARY))
        read_file_id(file, &rec->file_id);
    len = copy_scratch_path(rec, sizeof(*rec), start, end - start);
    if (!len) {
        count_error(PT_KIND_OPEN);
        return;
    }
    rec->path_len = len;
    rec->header.size = sizeof(*rec) + len;
    submit_scratch(rec, sizeof(*rec) + len, PT_KIND_OPEN);
}

/* Entries in watched_fds, and in pending_io: while zero, reads, writes and closes skip their
 * map operations. Raised only when an insert made a new entry, lowered only when a delete
 * removed one, so never below the truth. Limitation: entries that the LRU evicts, or whose
 * process exits without closing them, keep it raised until the sensor restarts; the cost is
 * one hash lookup per read, write and close, as if the gate were not there. */
__u64 watched_fd_count;
__u64 pending_io_count;

static __always_inline void watch_fd(__s32 fd, __u64 file_cookie) {
    struct fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};

    if (bpf_map_update_elem(&watched_fds, &key, &file_cookie, BPF_NOEXIST) == 0) {
        __sync_fetch_and_add(&watched_fd_count, 1);
        return;
    }
    if (bpf_map_update_elem(&watched_fds, &key, &file_cookie, BPF_ANY))
        count_error(PT_KIND_OPEN);
}

static __always_inline void unwatch_fd(struct fd_key *key) {
    if (bpf_map_delete_elem(&watched_fds, key) == 0)
        __sync_fetch_and_sub(&watched_fd_count, 1);
}

/*
 * Exit of open, openat and openat2: the arguments are still in the registers. `watched`: the
 * file family is on; `loads`: the library family is on (at least one is).
 *
 * Most opens (a compiler's headers, a build's sources) are neither libraries nor watched: the
 * quick tests on the name's last bytes and the path's first component drop them before a path
 * is built, which costs a helper call per component.
 */
static __always_inline void finish_open(__u64 filename, __u32 flags, long ret, bool watched,
                                        bool loads) {
    __s32 result = (__s32)ret;
    struct file *file = NULL;
    __u32 start = 0, end = 0;
    bool library, watch;
    __u64 lead = 0;

    if (is_self(bpf_get_current_pid_tgid() >> 32))
        return;
    if (result < 0) {
        if (!watched || !requested_top_may_match(filename, &lead) || !lead_may_match(lead))
            return;
        if (!requested_path(filename, &start, &end) || !path_is_watched(start, end))
            return;
        send_open(flags, result, start, end, NULL, 0);
        return;
    }

    file = file_of_fd(result);
    if (!file)
        return;
    library = loads && name_may_be_library(file);
    watch = watched && file_top_may_match(file);
    if (!library && !watch)
        return;
    if (!opened_path(file, &start, &end))
        return;
    if (library && is_library_path(start, end)) {
        send_open(flags, result, start, end, file, PT_FLAG_LIBRARY);
        return;
    }
    if (!watch || !path_is_watched(start, end))
        return;

    send_open(flags, result, start, end, file, 0);
    watch_fd(result, (__u64)file);
}

static __always_inline void forget_fd(__s32 fd) {
    struct fd_key key = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd};

    if (watched_fd_count == 0)
        return;
    unwatch_fd(&key);
}

/* Entry of read/write and their variants: is this fd watched, and still the same file? */
static __always_inline void io_enter(__s32 fd, __u32 kind) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct fd_key key = {.tgid = pid_tgid >> 32, .fd = fd};
    struct pending_io io;
    __u64 *watched;

    if (watched_fd_count == 0)
        return;
    watched = bpf_map_lookup_elem(&watched_fds, &key);
    if (!watched)
        return;
    io.file = (__u64)file_of_fd(key.fd);
    if (io.file != *watched) {
        unwatch_fd(&key);
        return;
    }
    io.fd = key.fd;
    io.kind = kind;
    if (bpf_map_update_elem(&pending_io, &pid_tgid, &io, BPF_NOEXIST) == 0)
        __sync_fetch_and_add(&pending_io_count, 1);
    else if (bpf_map_update_elem(&pending_io, &pid_tgid, &io, BPF_ANY))
        count_error(kind);
}

static __always_inline void io_exit(long ret) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_io *found;
    struct pending_io io;
    struct pt_io *rec;

    if (pending_io_count == 0)
        return;
    found = bpf_map_lookup_elem(&pending_io, &pid_tgid);
    if (!found)
        return;
    io = *found;
    if (bpf_map_delete_elem(&pending_io, &pid_tgid) == 0)
        __sync_fetch_and_sub(&pending_io_count, 1);

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

#endif
