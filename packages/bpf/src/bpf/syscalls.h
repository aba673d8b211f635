/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Syscall hooks without tracefs: tp_btf/sys_enter and tp_btf/sys_exit are raw tracepoints,
 * attached through BTF, so they work where tracefs is not mounted (the syscalls:* tracepoints
 * need it to find their ids). One program per hook family dispatches on the syscall number.
 *
 * Limitation: only the native syscall table is decoded; 32-bit (compat) processes on a 64-bit
 * kernel use other numbers and their socket and file syscalls are not reported.
 */
#ifndef PROCTRAIL_SYSCALLS_H
#define PROCTRAIL_SYSCALLS_H

#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_open 2
#define NR_close 3
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_readv 19
#define NR_writev 20
#define NR_connect 42
#define NR_accept 43
#define NR_listen 50
#define NR_openat 257
#define NR_accept4 288
#define NR_openat2 437
#elif defined(__TARGET_ARCH_arm64)
/* The generic table: there is no open(2), only openat. */
#define NR_read 63
#define NR_write 64
#define NR_open -1
#define NR_close 57
#define NR_pread64 67
#define NR_pwrite64 68
#define NR_readv 65
#define NR_writev 66
#define NR_connect 203
#define NR_accept 202
#define NR_listen 201
#define NR_openat 56
#define NR_accept4 242
#define NR_openat2 437
#else
#error "syscall numbers are defined for x86 and arm64 only"
#endif

/* The syscall number at sys_exit, which only hands over the return value. */
static __always_inline long syscall_nr(struct pt_regs *regs) {
#if defined(__TARGET_ARCH_x86)
    return BPF_CORE_READ(regs, orig_ax);
#else
    return BPF_CORE_READ((struct user_pt_regs *)regs, syscallno);
#endif
}

#define SYSCALL_ARG1(regs) PT_REGS_PARM1_CORE_SYSCALL(regs)
#define SYSCALL_ARG2(regs) PT_REGS_PARM2_CORE_SYSCALL(regs)
#define SYSCALL_ARG3(regs) PT_REGS_PARM3_CORE_SYSCALL(regs)

#endif
