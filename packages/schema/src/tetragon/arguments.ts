import { z } from 'zod';
import { credentialsSchema, userNamespaceSchema } from './process';
import { int32, int64, uint32 } from './scalars';

/**
 * Tetragon's `KprobeArgument`: one typed key and an optional label. The typed keys Proctrail
 * reads are checked; an argument of a kind this version does not know keeps only its label,
 * the way protojson readers discard unknown fields.
 */

export const sockArgSchema = z.object({
  family: z.string().optional(),
  type: z.string().optional(),
  protocol: z.string().optional(),
  mark: uint32.optional(),
  priority: uint32.optional(),
  saddr: z.string().optional(),
  daddr: z.string().optional(),
  sport: uint32.optional(),
  dport: uint32.optional(),
  /** The kernel socket's identity: a uint64, so a string. */
  cookie: int64.optional(),
  state: z.string().optional(),
});

export const skbArgSchema = z.object({
  hash: uint32.optional(),
  len: uint32.optional(),
  priority: uint32.optional(),
  mark: uint32.optional(),
  saddr: z.string().optional(),
  daddr: z.string().optional(),
  sport: uint32.optional(),
  dport: uint32.optional(),
  proto: uint32.optional(),
  sec_path_len: uint32.optional(),
  sec_path_olen: uint32.optional(),
  protocol: z.string().optional(),
  family: z.string().optional(),
});

export const fileArgSchema = z.object({
  mount: z.string().optional(),
  path: z.string().optional(),
  flags: z.string().optional(),
  permission: z.string().optional(),
});

export const kprobeArgumentSchema = z.object({
  label: z.string().optional(),
  string_arg: z.string().optional(),
  int_arg: int32.optional(),
  uint_arg: uint32.optional(),
  long_arg: int64.optional(),
  size_arg: int64.optional(),
  bytes_arg: z.string().optional(),
  truncated_bytes_arg: z
    .object({ bytes_arg: z.string().optional(), orig_size: int64.optional() })
    .optional(),
  sock_arg: sockArgSchema.optional(),
  skb_arg: skbArgSchema.optional(),
  sockaddr_arg: z
    .object({ family: z.string().optional(), addr: z.string().optional(), port: uint32.optional() })
    .optional(),
  sockaddrun_arg: z
    .object({ family: z.string().optional(), path: z.string().optional() })
    .optional(),
  file_arg: fileArgSchema.optional(),
  path_arg: fileArgSchema.optional(),
  linux_binprm_arg: fileArgSchema.optional(),
  cred_arg: z.record(z.string(), z.unknown()).optional(),
  process_credentials_arg: credentialsSchema.optional(),
  user_ns_arg: userNamespaceSchema.optional(),
  capability_arg: z.object({ value: int32.optional(), name: z.string().optional() }).optional(),
  cap_effective_arg: z.string().optional(),
  cap_permitted_arg: z.string().optional(),
  cap_inheritable_arg: z.string().optional(),
  kernel_cap_t_arg: z.string().optional(),
  module_arg: z
    .object({
      name: z.string().optional(),
      signature_ok: z.boolean().optional(),
      tainted: z.array(z.string()).optional(),
    })
    .optional(),
  net_dev_arg: z.object({ name: z.string().optional() }).optional(),
  bpf_cmd_arg: z.string().optional(),
  syscall_id: z.object({ id: uint32.optional(), abi: z.string().optional() }).optional(),
  bpf_attr_arg: z.record(z.string(), z.unknown()).optional(),
  bpf_prog_arg: z.record(z.string(), z.unknown()).optional(),
  bpf_map_arg: z.record(z.string(), z.unknown()).optional(),
  perf_event_arg: z.record(z.string(), z.unknown()).optional(),
  error_arg: z.record(z.string(), z.unknown()).optional(),
});

export type KprobeArgument = z.infer<typeof kprobeArgumentSchema>;
export type SockArg = z.infer<typeof sockArgSchema>;
export type FileArg = z.infer<typeof fileArgSchema>;
