// SPDX-License-Identifier: GPL-2.0
/*
 * Network, the cgroup side: connect4/connect6 see the destination in the caller's context and
 * leave it for the connect syscall's exit (net.h, dispatched from syscalls.bpf.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "net.h"
#include "policy.h"

/* The destination as the caller gave it; ports in host order, addresses in network order. */
static __always_inline void read_dest(struct bpf_sock_addr *ctx, __u16 family,
                                      struct pt_tuple *dest) {
    __u32 port = ctx->user_port;

    __builtin_memset(dest, 0, sizeof(*dest));
    dest->family = family;
    dest->protocol = ctx->protocol;
    dest->sock_type = ctx->type;
    dest->remote_port = (__u16)((port >> 8) & 0xff) | (__u16)((port & 0xff) << 8);
    if (family == AF_INET) {
        __u32 ip4 = ctx->user_ip4;

        __builtin_memcpy(dest->remote_addr, &ip4, 4);
    } else {
        __u32 ip6[4] = {ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]};

        __builtin_memcpy(dest->remote_addr, ip6, 16);
    }
}

/* Leaves the destination for the connect syscall's exit, then lets a policy decide. */
static __always_inline int handle_connect(struct bpf_sock_addr *ctx, __u16 family) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    struct pending_sock *pending = bpf_map_lookup_elem(&pending_sock, &pid_tgid);
    struct pt_tuple dest;

    read_dest(ctx, family, &dest);
    if (pending) {
        pending->has_dest = 1;
        pending->dest.family = family;
        pending->dest.remote_port = dest.remote_port;
        __builtin_memcpy(pending->dest.remote_addr, dest.remote_addr, 16);
    }
    return policy_on_connect(&dest);
}

SEC("cgroup/connect4")
int handle_connect4(struct bpf_sock_addr *ctx) {
    return handle_connect(ctx, AF_INET);
}

SEC("cgroup/connect6")
int handle_connect6(struct bpf_sock_addr *ctx) {
    return handle_connect(ctx, AF_INET6);
}

char LICENSE[] SEC("license") = "GPL";
