import { DETECTION_SEVERITIES } from '@proctrail/schema';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * The shape of a rule file. Keep in sync with the matchers in compile.ts and the built-in
 * rules in apps/agent/rules/. Every condition of a `match` must hold; lists inside one
 * condition are alternatives.
 */

const globs = z.array(z.string().min(1)).min(1);

function isRegExp(text: string): boolean {
  try {
    new RegExp(text);
    return true;
  } catch {
    return false;
  }
}

const cidr = z.string().refine((text) => {
  try {
    ipaddr.parseCIDR(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
    return true;
  } catch {
    return false;
  }
}, 'expected an IP address or a CIDR range such as 10.0.0.0/8');

/** What one process (the subject, its parent, or some ancestor) must look like. */
export const processConditionSchema = z
  .object({
    /** Globs on the binary path; a glob without "/" matches the file name alone. */
    binary: globs.optional(),
    binaryNot: globs.optional(),
    /** A regular expression the argument string must match. */
    argumentsMatch: z
      .string()
      .min(1)
      .refine(isRegExp, 'expected a JavaScript regular expression')
      .optional(),
    /** sh, bash, dash, ash, zsh, ksh, or busybox running sh/ash. */
    shell: z.boolean().optional(),
    /** Effective uids, one of which the process must have. */
    uid: z.array(z.number().int().min(0)).min(1).optional(),
    uidNot: z.array(z.number().int().min(0)).min(1).optional(),
    /** Flag tokens (execve, clone, procFS, ...), all required. */
    flags: z.array(z.string().min(1)).min(1).optional(),
    /** In a container: a pod's container, or a docker id. */
    inContainer: z.boolean().optional(),
    /** Tetragon's in_init_tree: started by the container's init, or entered from outside. */
    inInitTree: z.boolean().optional(),
    /**
     * Tetragon's pod.container.maybe_exec_probe: the process runs one of its container's exec
     * probe commands (kubelet starts them from outside the init tree every few seconds), or
     * descends from one.
     */
    execProbe: z.boolean().optional(),
    /** fd 0, 1 or 2 was an IPv4/IPv6 socket at exec (Proctrail's stdio_sockets). */
    stdioSocket: z.boolean().optional(),
    /** The binary has the setuid bit (binary_properties.setuid set). */
    setuid: z.boolean().optional(),
    /** The real uid (process_credentials.uid, else uid) is not 0. */
    runByNonRoot: z.boolean().optional(),
    /** Runs from a memfd, a deleted file, or a file with no links left. */
    fileless: z.boolean().optional(),
  })
  .strict();

export const networkConditionSchema = z
  .object({
    direction: z.array(z.enum(['connect', 'accept'])).min(1),
    /** The remote address is in one of these ranges. */
    remoteIn: z.array(cidr).min(1).optional(),
    /** The remote address is in none of these ranges: an allow list. */
    remoteNotIn: z.array(cidr).min(1).optional(),
    remotePort: z.array(z.number().int().min(0).max(65535)).min(1).optional(),
  })
  .strict();

export const fileConditionSchema = z
  .object({
    path: globs,
    pathNot: globs.optional(),
    operation: z
      .array(z.enum(['open', 'read', 'write', 'truncate', 'mmap']))
      .min(1)
      .optional(),
  })
  .strict();

export const timingConditionSchema = z
  .object({
    /**
     * Seconds from the start of the container (pod.container.start_time) or, without one, of
     * the workload's root (the oldest known ancestor in the same container) to the exec.
     */
    minSecondsSinceWorkloadStart: z.number().min(0),
  })
  .strict();

export const matchSchema = z
  .object({
    process: processConditionSchema.optional(),
    parent: processConditionSchema.optional(),
    /** Some ancestor (parent, grandparent, ...) matches; the nearest one is reported. */
    ancestor: processConditionSchema.optional(),
    /** No ancestor matches. */
    noAncestor: processConditionSchema.optional(),
    /** The process or one of its ancestors matches. */
    selfOrAncestor: processConditionSchema.optional(),
    network: networkConditionSchema.optional(),
    file: fileConditionSchema.optional(),
    timing: timingConditionSchema.optional(),
  })
  .strict();

export const EVENT_CLASSES = ['exec', 'connect', 'accept', 'file'] as const;

export const ruleSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lower-case words joined by -'),
    title: z.string().min(1),
    severity: z.enum(DETECTION_SEVERITIES),
    /** Which events the rule looks at. */
    on: z.array(z.enum(EVENT_CLASSES)).min(1),
    /** One match, or several alternatives under `anyOf`. */
    match: matchSchema.optional(),
    anyOf: z.array(matchSchema).min(1).optional(),
    /** Raised severities, first that matches wins. */
    escalate: z
      .array(z.object({ severity: z.enum(DETECTION_SEVERITIES), match: matchSchema }).strict())
      .optional(),
    /** A template; see explain.ts for the {placeholders}. */
    explanation: z.string().min(1),
    /**
     * One detection per process by default; `remote` keeps one per process and remote
     * address, `path` one per process and file path.
     */
    dedupe: z.enum(['process', 'remote', 'path']).default('process'),
    enabled: z.boolean().default(true),
  })
  .strict()
  .refine((rule) => !(rule.match && rule.anyOf), {
    message: 'give either match or anyOf, not both',
    path: ['anyOf'],
  });

export type Rule = z.output<typeof ruleSchema>;
export type RuleMatch = z.output<typeof matchSchema>;
export type ProcessCondition = z.output<typeof processConditionSchema>;

/** A rule file: its rules under `rules:`. */
export const ruleFileSchema = z.object({ rules: z.array(z.unknown()).min(1) }).strict();
