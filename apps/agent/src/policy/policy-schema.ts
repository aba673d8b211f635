import ipaddr from 'ipaddr.js';
import { z } from 'zod';

/**
 * The shape of a policy file: the detection rules' language (`match` with `process`,
 * `ancestor`, `selfOrAncestor`), cut down to what the kernel can check at exec and connect.
 * Keep in sync with compile.ts and the examples in apps/agent/policies/. Conditions a
 * detection rule knows but the kernel cannot check are rejected by name, never ignored: a
 * policy that silently selected more (or less) than it says would be worse than none.
 */

function unsupported(why: string) {
  return z
    .unknown()
    .superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message: why }))
    .optional();
}

/** A basename ("bash") or an absolute path ("/usr/bin/bash"); matched exactly in the kernel. */
const binaryName = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (text) => !/[*?[\]{}]/.test(text),
    'kernel policies match exact basenames or absolute paths; globs are not supported',
  )
  .refine(
    (text) => !text.includes('/') || text.startsWith('/'),
    'expected a basename (bash) or an absolute path (/usr/bin/bash)',
  );

const processSelectorSchema = z
  .object({
    /** Basenames or absolute paths of the executable (a script's is its interpreter). */
    binary: z.array(binaryName).min(1).max(64),
    /** Real uids, one of which the process must have. */
    uid: z.array(z.number().int().min(0).max(0xfffffffe)).min(1).max(4).optional(),
    binaryNot: unsupported('binaryNot cannot be enforced in the kernel: list the binaries instead'),
    argumentsMatch: unsupported('arguments are not matched in the kernel'),
    shell: unsupported('shell is not enforced in the kernel: list the shells under binary'),
    uidNot: unsupported('uidNot cannot be enforced in the kernel: list uids instead'),
    flags: unsupported('flags are not matched in the kernel'),
    /**
     * true: the process descends, inside its pid namespace, from that namespace's init (a
     * container's own processes; on the host, everything under pid 1). false: it was entered
     * into its pid namespace from outside (nsenter, `kubectl exec`), or descends from one that
     * was.
     */
    inInitTree: z.boolean().optional(),
    inContainer: unsupported(
      "inContainer is not matched in the kernel: use match.cgroup with the container's cgroup",
    ),
    stdioSocket: unsupported('stdioSocket is not matched by kernel policies'),
    setuid: unsupported('setuid is not matched by kernel policies'),
    runByNonRoot: unsupported('runByNonRoot is not matched by kernel policies: use uid'),
    fileless: unsupported('fileless is not matched by kernel policies'),
  })
  .strict();

/** Only the binary of an ancestor is known in the kernel. */
const ancestorSelectorSchema = z
  .object({
    binary: z.array(binaryName).min(1).max(64),
    uid: unsupported("an ancestor's uid is not known in the kernel: put uid under process"),
  })
  .strict();

const cgroupPath = z
  .string()
  .regex(/^\/[^\0]*$/, 'expected a cgroup v2 path from the hierarchy root, such as /lab.slice');

export const policyMatchSchema = z
  .object({
    /** The process the policy acts on. */
    process: processSelectorSchema.optional(),
    /** Some strict ancestor (parent, grandparent, ...) ran one of these binaries. */
    ancestor: ancestorSelectorSchema.optional(),
    /** The process itself or some ancestor ran one of these binaries. */
    selfOrAncestor: ancestorSelectorSchema.optional(),
    /** The process is in this cgroup v2 directory or below it. */
    cgroup: cgroupPath.optional(),
    parent: unsupported('parent is not tracked in the kernel: use ancestor'),
    noAncestor: unsupported('noAncestor cannot be enforced in the kernel'),
    network: unsupported('connect destinations go under allow or deny, beside match'),
    file: unsupported('no hook on this kernel can refuse an open'),
    timing: unsupported('timing conditions are not enforced in the kernel'),
  })
  .strict()
  .refine((m) => !(m.ancestor && m.selfOrAncestor), {
    message: 'give ancestor or selfOrAncestor, not both',
    path: ['selfOrAncestor'],
  })
  .refine((m) => m.process || m.ancestor || m.selfOrAncestor, {
    message:
      'name a binary under process, ancestor or selfOrAncestor: a policy must not reach every ' +
      'process',
  });

function isCidr(text: string): boolean {
  try {
    if (text.includes('/')) ipaddr.parseCIDR(text);
    else ipaddr.parse(text);
    return true;
  } catch {
    return false;
  }
}

export const destinationSchema = z
  .object({
    cidr: z.string().refine(isCidr, 'expected an IP address or a CIDR range such as 10.0.0.0/8'),
    /** None: any port. */
    ports: z.array(z.number().int().min(1).max(65535)).min(1).max(8).optional(),
  })
  .strict();

export const POLICY_EVENTS = ['exec', 'connect', 'open'] as const;
export const POLICY_ACTIONS = ['kill', 'deny', 'alert'] as const;

export const policySchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lower-case words joined by -'),
    title: z.string().min(1),
    on: z.enum(POLICY_EVENTS),
    /** exec: kill or alert; connect: deny or alert. */
    action: z.enum(POLICY_ACTIONS),
    /** Record what would have been blocked, block nothing. */
    dryRun: z.boolean().optional(),
    match: policyMatchSchema,
    /** connect: every destination but these is refused. */
    allow: z.array(destinationSchema).min(1).max(256).optional(),
    /** connect: these destinations are refused. */
    deny: z.array(destinationSchema).min(1).max(256).optional(),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const problem = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (policy.on === 'open') {
      problem(
        'on',
        'no hook on this kernel can make an open fail (kprobes and BPF LSM do not load, and a ' +
          'signal at the openat tracepoint comes after O_TRUNC emptied the file): the policy ' +
          'is rejected rather than weakened; detection rules report opens of watched paths',
      );
      return;
    }
    if (policy.on === 'exec' && policy.action === 'deny') {
      problem('action', 'an exec policy kills (kill) or reports (alert)');
    }
    if (policy.on === 'connect' && policy.action === 'kill') {
      problem('action', 'a connect policy refuses the connect (deny) or reports it (alert)');
    }
    if (policy.on === 'exec' && (policy.allow || policy.deny)) {
      problem(policy.allow ? 'allow' : 'deny', 'destinations belong to connect policies');
    }
    if (policy.on === 'connect' && Boolean(policy.allow) === Boolean(policy.deny)) {
      problem(
        policy.allow ? 'deny' : 'allow',
        'a connect policy gives either allow (refuse everything else) or deny (refuse these)',
      );
    }
  });

export const policyFileSchema = z.object({ policies: z.array(z.unknown()).min(1) }).strict();

export type Policy = z.infer<typeof policySchema>;
export type PolicyDestination = z.infer<typeof destinationSchema>;
