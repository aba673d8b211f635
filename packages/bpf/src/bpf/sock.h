/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a socket's addresses from struct sock, for exec's stdio and the network hooks. */
#ifndef PROCTRAIL_SOCK_H
#define PROCTRAIL_SOCK_H

#include "common.h"

static __always_inline __u16 swap16(__u16 v) {
    return (v >> 8) | (v << 8);
}

/* skc_num is the local port in host order; skc_dport is the peer's in network order. */
static __always_inline void read_tuple(struct sock *sk, struct pt_tuple *t) {
    t->family = BPF_CORE_READ(sk, __sk_common.skc_family);
    t->protocol = BPF_CORE_READ(sk, sk_protocol);
    t->sock_type = BPF_CORE_READ(sk, sk_type);
    t->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
    /* TCP gives the port back (skc_num = 0) once the connection reaches CLOSE, often before
     * the owner's close(): the source port its packets carried is still there. */
    if (!t->local_port)
        t->local_port = swap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
    t->remote_port = swap16(BPF_CORE_READ(sk, __sk_common.skc_dport));

    if (t->family == AF_INET) {
        __u32 local = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
        __u32 remote = BPF_CORE_READ(sk, __sk_common.skc_daddr);

        __builtin_memcpy(t->local_addr, &local, 4);
        __builtin_memcpy(t->remote_addr, &remote, 4);
    } else if (t->family == AF_INET6) {
        BPF_CORE_READ_INTO(&t->local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
        BPF_CORE_READ_INTO(&t->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    }
}

#endif
