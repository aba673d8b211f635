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
/* The highest of the numbers sys_enter handles (connect, listen, close, read, write...). */
#define NR_ENTER_MAX 50
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
#define NR_ENTER_MAX 203
#else
#error "syscall numbers are defined for x86 and arm64 only"
#endif

/*
 * The registers are read straight from the tracepoint's typed pt_regs pointer: the verifier
 * turns each read into one guarded load, where BPF_CORE_READ would call a helper. These hooks
 * run on every syscall of the host, so the difference is paid hundreds of thousands of times a
 * second. The argument registers still hold the arguments at sys_exit (only the return value
 * register changed), which lets an exit read what its entry was given.
 */
#if defined(__TARGET_ARCH_x86)
/* The syscall number at sys_exit, which only hands over the return value. */
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SYSCALL_ARG1(regs) ((regs)->di)
#define SYSCALL_ARG2(regs) ((regs)->si)
#define SYSCALL_ARG3(regs) ((regs)->dx)
#else
#define SYSCALL_NR(regs) ((regs)->syscallno)
/* x0 is the return value at exit; orig_x0 keeps the first argument. */
#define SYSCALL_ARG1(regs) ((regs)->orig_x0)
#define SYSCALL_ARG2(regs) ((regs)->regs[1])
#define SYSCALL_ARG3(regs) ((regs)->regs[2])
#endif

#endif
