/**
 * The BPF programs of proctrail.bpf.o by hook family, to leave families out at load. The
 * network and file families share the two syscall programs (src/bpf/syscalls.bpf.c), which
 * run a family's code only when its PT_HOOK_* bit is set in pt_config.hooks.
 */
import { constants } from './layout';

export const NETWORK_PROGRAMS: readonly string[] = ['handle_connect4', 'handle_connect6'];

export const SYSCALL_PROGRAMS: readonly string[] = ['handle_sys_enter', 'handle_sys_exit'];

/** The syscall hook families; each is on unless set to false. */
export interface HookFamilies {
  network?: boolean;
  files?: boolean;
  /** Library loads (shared objects, jars), for the software inventory. */
  loads?: boolean;
}

/** PT_HOOK_* bits of the families that are on. */
export function hookBits(hooks: HookFamilies | undefined): number {
  return (
    (hooks?.network === false ? 0 : constants.PT_HOOK_NETWORK) |
    (hooks?.files === false ? 0 : constants.PT_HOOK_FILES) |
    (hooks?.loads === false ? 0 : constants.PT_HOOK_LOADS)
  );
}

/** Programs not to load: a family's own ones, the syscall programs when no family needs them. */
export function disabledPrograms(hooks: HookFamilies | undefined) {
  return [
    ...(hooks?.network === false ? NETWORK_PROGRAMS : []),
    ...(hookBits(hooks) === 0 ? SYSCALL_PROGRAMS : []),
  ];
}
