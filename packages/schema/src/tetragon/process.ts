import { z } from 'zod';
import { int64, timestamp, uint32 } from './scalars';

/**
 * Tetragon's `Process` message and what hangs off it, field for field, with the proto names
 * protojson prints. Every field is optional: protojson omits zero values, and events about a
 * process the agent never found carry little more than a pid.
 */

export const imageSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
});

export const containerSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  image: imageSchema.optional(),
  start_time: timestamp.optional(),
  /** The pid inside the container's pid namespace: 1 for the container's init. */
  pid: uint32.optional(),
  maybe_exec_probe: z.boolean().optional(),
  security_context: z.object({ privileged: z.boolean().optional() }).optional(),
});

export const podSchema = z.object({
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  container: containerSchema.optional(),
  pod_labels: z.record(z.string(), z.string()).optional(),
  workload: z.string().optional(),
  workload_kind: z.string().optional(),
  pod_annotations: z.record(z.string(), z.string()).optional(),
});

/** Capability names as Tetragon prints them ("CAP_CHOWN", and in older builds "DAC_OVERRIDE"). */
export const capabilitiesSchema = z.object({
  permitted: z.array(z.string()).optional(),
  effective: z.array(z.string()).optional(),
  inheritable: z.array(z.string()).optional(),
});

export const namespaceSchema = z.object({
  inum: uint32.optional(),
  is_host: z.boolean().optional(),
});

export const namespacesSchema = z.object({
  uts: namespaceSchema.optional(),
  ipc: namespaceSchema.optional(),
  mnt: namespaceSchema.optional(),
  pid: namespaceSchema.optional(),
  pid_for_children: namespaceSchema.optional(),
  net: namespaceSchema.optional(),
  time: namespaceSchema.optional(),
  time_for_children: namespaceSchema.optional(),
  cgroup: namespaceSchema.optional(),
  user: namespaceSchema.optional(),
});

export const userNamespaceSchema = z.object({
  level: z.number().int().optional(),
  uid: uint32.optional(),
  gid: uint32.optional(),
  ns: namespaceSchema.optional(),
});

export const credentialsSchema = z.object({
  uid: uint32.optional(),
  gid: uint32.optional(),
  euid: uint32.optional(),
  egid: uint32.optional(),
  suid: uint32.optional(),
  sgid: uint32.optional(),
  fsuid: uint32.optional(),
  fsgid: uint32.optional(),
  securebits: z.array(z.string()).optional(),
  caps: capabilitiesSchema.optional(),
  user_ns: userNamespaceSchema.optional(),
});

export const binaryPropertiesSchema = z.object({
  setuid: uint32.optional(),
  setgid: uint32.optional(),
  privileges_changed: z.array(z.string()).optional(),
  file: z
    .object({
      inode: z.object({ number: int64.optional(), links: uint32.optional() }).optional(),
      path: z.string().optional(),
    })
    .optional(),
});

/**
 * Proctrail's extension, absent from Tetragon's proto (its readers ignore it): what a file held
 * when Proctrail hashed it. On a process, its executable; on a process_loader event, the library.
 * `error` says why there is no hash: the file was gone (deleted, a memfd whose process ended)
 * or could not be read.
 */
export const fileHashSchema = z.object({
  sha256: z.string().optional(),
  /** The ELF GNU build-id, hex (process_loader's own `buildid` is base64, as Tetragon's). */
  build_id: z.string().optional(),
  size: int64.optional(),
  error: z.string().optional(),
});

export type FileHash = z.infer<typeof fileHashSchema>;

export const processSchema = z.object({
  exec_id: z.string().optional(),
  pid: uint32.optional(),
  /** Effective uid, as ps shows it. */
  uid: uint32.optional(),
  cwd: z.string().optional(),
  binary: z.string().optional(),
  /** argv[1..] joined by spaces, quoting without escaping: lossy, shown verbatim. */
  arguments: z.string().optional(),
  /** Space-separated tokens: an open set (execve, clone, procFS, rootcwd, auid, ...). */
  flags: z.string().optional(),
  start_time: timestamp.optional(),
  auid: uint32.optional(),
  pod: podSchema.optional(),
  /** A prefix of the container id, of varying length. */
  docker: z.string().optional(),
  parent_exec_id: z.string().optional(),
  refcnt: uint32.optional(),
  cap: capabilitiesSchema.optional(),
  ns: namespacesSchema.optional(),
  tid: uint32.optional(),
  process_credentials: credentialsSchema.optional(),
  binary_properties: binaryPropertiesSchema.optional(),
  user: z.object({ name: z.string().optional() }).optional(),
  in_init_tree: z.boolean().optional(),
  /** Proctrail's extension: the executable's SHA-256 and build-id (fileHashSchema). */
  binary_hash: fileHashSchema.optional(),
  /**
   * Proctrail's extension, absent from Tetragon's proto (its readers ignore it): those of
   * fds 0 to 2 that were network sockets at exec, with their peer. A shell whose stdin and
   * stdout are a TCP connection is what a reverse shell looks like.
   */
  stdio_sockets: z
    .array(
      z.object({
        fd: z.number().int().min(0).max(2),
        family: z.string().optional(),
        peer_address: z.string().optional(),
        peer_port: uint32.optional(),
      }),
    )
    .optional(),
  environment_variables: z
    .array(z.object({ Key: z.string().optional(), Value: z.string().optional() }))
    .optional(),
});

export type TetragonProcess = z.infer<typeof processSchema>;
export type TetragonPod = z.infer<typeof podSchema>;

/**
 * The container id of a process without the runtime's scheme: `pod.container.id` as the
 * cluster reports it ("containerd://<id>"), or else `docker` (which may be a prefix).
 */
export function containerIdOf(
  process: Pick<TetragonProcess, 'pod' | 'docker'>,
): string | undefined {
  const id = process.pod?.container?.id;
  if (id) {
    const scheme = id.indexOf('://');
    return scheme === -1 ? id : id.slice(scheme + 3);
  }
  return process.docker || undefined;
}

/** The tokens of a process's `flags` string. */
export function processFlags(process: Pick<TetragonProcess, 'flags'>): string[] {
  return process.flags ? process.flags.split(' ').filter(Boolean) : [];
}
