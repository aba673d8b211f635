/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network: connect, accept, listen and close of IPv4 and IPv6 sockets, in process context.
 *
 * Why these hooks: socket state-change tracepoints run in softirq for the server side and name
 * the wrong process; kprobes are not available. The cgroup connect4/connect6 hooks (net.bpf.c)
 * see the destination as the caller gave it, in the caller's context; the connect syscall's exit
 * gives the result and, through fd -> socket, the 4-tuple. accept's new fd and close's fd lead to
 * the socket the same way. The cookie is the struct sock address, as Tetragon does: the same from
 * connect or accept to close. The syscalls are dispatched from syscalls.bpf.c.
 */
#ifndef PROCTRAIL_NET_H
#define PROCTRAIL_NET_H

#include "common.h"
#include "sock.h"

#define IPPROTO_TCP 6
#define SOCK_STREAM 1

/* A socket syscall between its entry and its exit, per thread. */
struct pending_sock {
    __s32 fd;
    __u32 has_dest;
    struct pt_tuple dest; /* what connect4/connect6 saw */
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct pending_sock);
} pending_sock SEC(".maps") __weak;

static __always_inline bool is_inet(__u16 family) {
    return family == AF_INET || family == AF_INET6;
}

static __always_inline void remember_fd(__s32 fd) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_sock entry = {.fd = fd};

    if (is_self(pid_tgid >> 32))
        return;
    if (bpf_map_update_elem(&pending_sock, &pid_tgid, &entry, BPF_ANY))
        count_error(PT_KIND_CONNECT);
}

/* Builds and sends a socket record; nothing when the fd is not an IPv4 or IPv6 socket. */
static __always_inline void emit_sock(__u16 kind, __s32 fd, __s32 result,
                                      struct pending_sock *pending) {
    struct file *file = file_of_fd(fd);
    struct sock *sk;
    struct pt_sock *rec;
    struct pt_tuple tuple;

    if (!file || !file_is_socket(file))
        return;
    sk = sock_of_file(file);
    if (!sk || !is_inet(BPF_CORE_READ(sk, __sk_common.skc_family)))
        return;

    __builtin_memset(&tuple, 0, sizeof(tuple));
    read_tuple(sk, &tuple);
    /* A socket closed without ever being bound, connected or listening (runtimes probe with
     * such sockets) has no connection to report. */
    if (kind == PT_KIND_CLOSE && !tuple.local_port && !tuple.remote_port)
        return;

    rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
    if (!rec) {
        count_drop(kind);
        return;
    }
    fill_header(&rec->header, kind, sizeof(*rec));
    rec->cookie = (__u64)sk;
    rec->fd = fd;
    rec->result = result;
    rec->tuple = tuple;
    rec->bytes_sent = 0;
    rec->bytes_received = 0;

    /* A failed connect resets the socket's peer; the cgroup hook saw what was asked for. */
    if (pending && pending->has_dest) {
        rec->tuple.remote_port = pending->dest.remote_port;
        __builtin_memcpy(rec->tuple.remote_addr, pending->dest.remote_addr, 16);
    }
    if (kind == PT_KIND_CLOSE && rec->tuple.protocol == IPPROTO_TCP &&
        rec->tuple.sock_type == SOCK_STREAM) {
        struct tcp_sock *tp = (struct tcp_sock *)sk;

        rec->bytes_sent = BPF_CORE_READ(tp, bytes_sent);
        rec->bytes_received = BPF_CORE_READ(tp, bytes_received);
        rec->header.flags |= PT_FLAG_HAS_BYTES;
    }
    bpf_ringbuf_submit(rec, wakeup_flags());
}

/* Exit of connect or listen: pairs with the fd remembered at entry. */
static __always_inline void finish_pending(__u16 kind, long ret) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_sock *pending = bpf_map_lookup_elem(&pending_sock, &pid_tgid);
    struct pending_sock copy;

    if (!pending)
        return;
    copy = *pending;
    bpf_map_delete_elem(&pending_sock, &pid_tgid);
    emit_sock(kind, copy.fd, (__s32)ret, &copy);
}

/* accept's new fd is its return value: no entry state needed. Failures (EAGAIN of non-blocking
 * servers above all) are not sent. */
static __always_inline void finish_accept(long ret) {
    __s32 fd = (__s32)ret;

    if (fd < 0 || is_self(bpf_get_current_pid_tgid() >> 32))
        return;
    emit_sock(PT_KIND_ACCEPT, fd, fd, NULL);
}

/* Limitation: a socket closed by exit without close, or by close_range, is not reported; a
 * socket with dup'd fds is reported at each close of one of them. */
static __always_inline void close_socket(__s32 fd) {
    if (is_self(bpf_get_current_pid_tgid() >> 32))
        return;
    emit_sock(PT_KIND_CLOSE, fd, 0, NULL);
}

#endif
