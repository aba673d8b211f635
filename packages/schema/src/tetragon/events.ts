import { z } from 'zod';
import { kprobeArgumentSchema } from './arguments';
import { fileHashSchema, processSchema } from './process';
import { int64, timestamp, uint32 } from './scalars';

/**
 * The event kinds of Tetragon's `GetEventsResponse`, as protojson prints them: one kind key
 * per line beside the envelope keys. The legacy `process_connect` / `process_close` /
 * `process_listen` kinds come from 2022 enterprise builds and carry flat address fields.
 */

const withProcess = {
  process: processSchema.optional(),
  parent: processSchema.optional(),
  /** Grandparent first, outward to pid 1 or 2; the immediate parent is not repeated. */
  ancestors: z.array(processSchema).optional(),
};

const policyFields = {
  policy_name: z.string().optional(),
  action: z.string().optional(),
  message: z.string().optional(),
  tags: z.array(z.string()).optional(),
};

const stackFrame = z.record(z.string(), z.unknown());

export const processExecSchema = z.object({ ...withProcess });

export const processExitSchema = z.object({
  ...withProcess,
  /** The signal's name ("SIGKILL"); absent when the process was not killed. */
  signal: z.string().optional(),
  /** The exit code (code >> 8); absent when 0. */
  status: uint32.optional(),
  time: timestamp.optional(),
});

export const processKprobeSchema = z.object({
  ...withProcess,
  ...policyFields,
  function_name: z.string().optional(),
  args: z.array(kprobeArgumentSchema).optional(),
  return: kprobeArgumentSchema.optional(),
  return_action: z.string().optional(),
  kernel_stack_trace: z.array(stackFrame).optional(),
  user_stack_trace: z.array(stackFrame).optional(),
  data: z.array(kprobeArgumentSchema).optional(),
});

export const processTracepointSchema = z.object({
  ...withProcess,
  ...policyFields,
  subsys: z.string().optional(),
  event: z.string().optional(),
  args: z.array(kprobeArgumentSchema).optional(),
});

export const processUprobeSchema = z.object({
  ...withProcess,
  ...policyFields,
  path: z.string().optional(),
  symbol: z.string().optional(),
  offset: int64.optional(),
  ref_ctr_offset: int64.optional(),
  args: z.array(kprobeArgumentSchema).optional(),
  data: z.array(kprobeArgumentSchema).optional(),
});

export const processUsdtSchema = z.object({
  ...withProcess,
  ...policyFields,
  path: z.string().optional(),
  provider: z.string().optional(),
  name: z.string().optional(),
  args: z.array(kprobeArgumentSchema).optional(),
  flags: z.string().optional(),
});

export const processLsmSchema = z.object({
  ...withProcess,
  ...policyFields,
  function_name: z.string().optional(),
  args: z.array(kprobeArgumentSchema).optional(),
  ima_hash: z.string().optional(),
});

export const processLoaderSchema = z.object({
  ...withProcess,
  path: z.string().optional(),
  /** The build id's bytes, base64. */
  buildid: z.string().optional(),
  /** Proctrail's extension: the file's SHA-256 (and build-id in hex), or why it has none. */
  hash: fileHashSchema.optional(),
  /**
   * Proctrail's extension: `executable` when the event carries the hash of the process's own
   * binary (which came too late for its exec event), `library` otherwise (the default).
   */
  role: z.enum(['executable', 'library']).optional(),
  /** Proctrail's extension: what the file says of itself (a jar's manifest, an ELF SONAME). */
  software: z
    .object({
      name: z.string().optional(),
      version: z.string().optional(),
      soname: z.string().optional(),
      title: z.string().optional(),
      bundle_name: z.string().optional(),
      bundle_version: z.string().optional(),
    })
    .optional(),
  /** Proctrail's extension: advisories of the vulnerable-version rules this library matched. */
  advisories: z.array(z.string()).optional(),
});

export const processThrottleSchema = z.object({
  type: z.string().optional(),
  cgroup: z.string().optional(),
});

export const rateLimitInfoSchema = z.object({
  number_of_dropped_process_events: int64.optional(),
});

export const legacyConnectionSchema = z.object({
  ...withProcess,
  source_ip: z.string().optional(),
  source_port: uint32.optional(),
  destination_ip: z.string().optional(),
  destination_port: uint32.optional(),
  protocol: z.string().optional(),
  sock_cookie: int64.optional(),
  stats: z
    .object({
      bytes_sent: int64.optional(),
      bytes_received: int64.optional(),
      segs_in: uint32.optional(),
      segs_out: uint32.optional(),
      srtt: uint32.optional(),
      retransmits: uint32.optional(),
      sk_drop: uint32.optional(),
    })
    .optional(),
});

/** Every event kind Proctrail reads, keyed by its JSON key. */
export const eventBodySchemas = {
  process_exec: processExecSchema,
  process_exit: processExitSchema,
  process_kprobe: processKprobeSchema,
  process_tracepoint: processTracepointSchema,
  process_uprobe: processUprobeSchema,
  process_usdt: processUsdtSchema,
  process_lsm: processLsmSchema,
  process_loader: processLoaderSchema,
  process_throttle: processThrottleSchema,
  rate_limit_info: rateLimitInfoSchema,
  process_connect: legacyConnectionSchema,
  process_close: legacyConnectionSchema,
  process_listen: legacyConnectionSchema,
} as const;

export type EventKind = keyof typeof eventBodySchemas;
export const EVENT_KINDS = Object.keys(eventBodySchemas) as EventKind[];

export const envelopeSchema = z.object({
  node_name: z.string().optional(),
  time: timestamp.optional(),
  cluster_name: z.string().optional(),
  node_labels: z.record(z.string(), z.string()).optional(),
  aggregation_info: z.object({ count: int64.optional() }).optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type EventBody<K extends EventKind = EventKind> = z.infer<(typeof eventBodySchemas)[K]>;

/** The body fields shared by every kind that is about a process. */
export type ProcessEventBody = z.infer<typeof processExecSchema>;

/** One Tetragon event: the envelope and exactly one kind key. */
export type TetragonEvent = Envelope & { [K in EventKind]?: EventBody<K> };
