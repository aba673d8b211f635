/** The BPF programs of proctrail.bpf.o by hook family, to leave families out at load. */

export const NETWORK_PROGRAMS: readonly string[] = [
  'handle_connect4',
  'handle_connect6',
  'handle_net_sys_enter',
  'handle_net_sys_exit',
];

export const FILE_PROGRAMS: readonly string[] = ['handle_file_sys_enter', 'handle_file_sys_exit'];
