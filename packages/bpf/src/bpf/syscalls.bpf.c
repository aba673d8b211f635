// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall hooks of the network and file families, in one sys_enter and one sys_exit program.
 *
 * Why one program per hook: these run on every syscall of the host, and each attached program
 * costs a trampoline call and its bookkeeping even when it returns at once. One program that
 * switches on the syscall number pays that once, and rejects the syscalls nobody watches (most
 * of them: readlink, stat, mmap...) before anything else. Families turned off in pt_config.hooks
 * are constants at load, so the verifier removes their code.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "file.h"
#include "net.h"
#include "syscalls.h"

static __always_inline bool files_on(void) {
    return pt_config.hooks & PT_HOOK_FILES;
}

static __always_inline bool loads_on(void) {
    return pt_config.hooks & PT_HOOK_LOADS;
}

static __always_inline bool network_on(void) {
    return pt_config.hooks & PT_HOOK_NETWORK;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id) {
    /* The highest number handled at entry: everything above leaves here. */
    if (id > NR_ENTER_MAX)
        return 0;

    switch (id) {
    case NR_close:
        if (files_on())
            forget_fd((__s32)SYSCALL_ARG1(regs));
        if (network_on())
            close_socket((__s32)SYSCALL_ARG1(regs));
        break;
    case NR_read:
    case NR_pread64:
    case NR_readv:
        if (files_on())
            io_enter((__s32)SYSCALL_ARG1(regs), PT_KIND_READ);
        break;
    case NR_write:
    case NR_pwrite64:
    case NR_writev:
        if (files_on())
            io_enter((__s32)SYSCALL_ARG1(regs), PT_KIND_WRITE);
        break;
    case NR_connect:
    case NR_listen:
        if (network_on())
            remember_fd((__s32)SYSCALL_ARG1(regs));
        break;
    }
    return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret) {
    switch (SYSCALL_NR(regs)) {
    case NR_openat:
        if (files_on() || loads_on())
            finish_open(SYSCALL_ARG2(regs), SYSCALL_ARG3(regs), ret, files_on(), loads_on());
        break;
    case NR_open:
        if (files_on() || loads_on())
            finish_open(SYSCALL_ARG1(regs), SYSCALL_ARG2(regs), ret, files_on(), loads_on());
        break;
    case NR_openat2:
        if (files_on() || loads_on())
            finish_open(SYSCALL_ARG2(regs), openat2_flags(SYSCALL_ARG3(regs)), ret, files_on(),
                        loads_on());
        break;
    case NR_read:
    case NR_pread64:
    case NR_readv:
    case NR_write:
    case NR_pwrite64:
    case NR_writev:
        if (files_on())
            io_exit(ret);
        break;
    case NR_connect:
        if (network_on())
            finish_pending(PT_KIND_CONNECT, ret);
        break;
    case NR_listen:
        if (network_on())
            finish_pending(PT_KIND_LISTEN, ret);
        break;
    case NR_accept:
    case NR_accept4:
        if (network_on())
            finish_accept(ret);
        break;
    }
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
