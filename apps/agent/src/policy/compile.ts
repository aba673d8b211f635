import { statSync } from 'node:fs';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { validateKernelPolicies, type KernelDestination, type KernelPolicy } from '@proctrail/bpf';
import { loadPolicies, type PolicyProblem, type SourcedPolicy } from './load-policies';
import type { PolicyDestination } from './policy-schema';

/** What the agent, the API and the events say about a loaded policy. */
export interface PolicySummary {
  name: string;
  title: string;
  file: string;
  line: number;
  on: 'exec' | 'connect';
  action: 'kill' | 'deny' | 'alert';
  /** enforce: blocks; dry-run: records what it would have blocked; alert: only reports. */
  mode: 'enforce' | 'dry-run' | 'alert';
  /** The selector in words: "bash, sh under java in /lab". */
  selects: string;
}

export interface CompiledPolicies {
  /** In the same order: a policy's index is its enforce records' policyIndex. */
  kernel: KernelPolicy[];
  summaries: PolicySummary[];
  problems: PolicyProblem[];
}

export interface CompileOptions {
  /** Every policy records what it would block, and blocks nothing. */
  dryRun?: boolean;
  /**
   * Where the cgroup v2 hierarchy is mounted: match.cgroup paths are below it. Absent: cgroups
   * are not resolved (a check of the files alone; the kernel policies then lack them).
   */
  cgroupRoot?: string;
}

function destination(range: PolicyDestination): KernelDestination {
  const [address, bits] = range.cidr.includes('/')
    ? ipaddr.parseCIDR(range.cidr)
    : [ipaddr.parse(range.cidr), range.cidr.includes(':') ? 128 : 32];
  const v6 = address.kind() === 'ipv4' ? (address as ipaddr.IPv4).toIPv4MappedAddress() : address;
  return {
    address: v6.toByteArray(),
    prefixLength: address.kind() === 'ipv4' ? 96 + bits : bits,
    ports: range.ports ?? [],
  };
}

/** The cgroup's id is its directory's inode number on cgroup v2 (kernfs). */
function cgroupOf(path: string, root: string): { id: bigint; level: number } | string {
  const parts = path.split('/').filter(Boolean);
  try {
    const stat = statSync(join(root, ...parts), { bigint: true });
    if (!stat.isDirectory()) return `${join(root, ...parts)} is not a cgroup directory`;
    return { id: stat.ino, level: parts.length };
  } catch (error) {
    return `cgroup ${path} does not exist under ${root}: ${(error as Error).message}`;
  }
}

function describe(policy: SourcedPolicy): string {
  const { match } = policy;
  const parts: string[] = [];
  if (match.process) parts.push(match.process.binary.join(', '));
  if (match.ancestor) parts.push(`under ${match.ancestor.binary.join(', ')}`);
  if (match.selfOrAncestor) {
    const binaries = match.selfOrAncestor.binary.join(', ');
    parts.push(match.process ? `as or under ${binaries}` : `${binaries} and everything under it`);
  }
  if (match.process?.uid) parts.push(`uid ${match.process.uid.join(', ')}`);
  if (match.cgroup) parts.push(`in ${match.cgroup}`);
  if (match.process?.inInitTree === true) parts.push("in its pid namespace's init tree");
  if (match.process?.inInitTree === false)
    parts.push('entered into its pid namespace from outside');
  return parts.join(' ');
}

/**
 * Turns checked policies into the kernel's terms. A cgroup that does not exist is a problem:
 * resolving it later would leave a gap in which the policy is not in force.
 */
export function compilePolicies(
  policies: readonly SourcedPolicy[],
  options: CompileOptions,
): CompiledPolicies {
  const compiled: CompiledPolicies = { kernel: [], summaries: [], problems: [] };
  for (const policy of policies) {
    if (policy.on === 'open') continue; // rejected by the schema; narrows the type
    const { match } = policy;
    const cgroup =
      match.cgroup && options.cgroupRoot ? cgroupOf(match.cgroup, options.cgroupRoot) : undefined;
    if (typeof cgroup === 'string') {
      compiled.problems.push({
        file: policy.file,
        line: policy.line,
        field: 'match.cgroup',
        message: cgroup,
      });
      continue;
    }
    const dryRun = options.dryRun === true || policy.dryRun === true;
    const alertOnly = policy.action === 'alert';
    const ancestor = match.ancestor ?? match.selfOrAncestor;
    const kernel: KernelPolicy = {
      on: policy.on,
      processBinaries: match.process?.binary ?? [],
      ancestorBinaries: ancestor?.binary ?? [],
      ancestorIncludesSelf: match.selfOrAncestor !== undefined,
      uids: match.process?.uid,
      cgroup,
      initTree:
        match.process?.inInitTree === undefined
          ? undefined
          : match.process.inInitTree
            ? 'inside'
            : 'outside',
      dryRun: dryRun && !alertOnly,
      alertOnly,
    };
    if (policy.on === 'connect') {
      const ranges = (policy.allow ?? policy.deny ?? []).map(destination);
      kernel.destinations = { mode: policy.allow ? 'allow' : 'deny', ranges };
    }
    compiled.kernel.push(kernel);
    compiled.summaries.push({
      name: policy.name,
      title: policy.title,
      file: policy.file,
      line: policy.line,
      on: policy.on,
      action: policy.action,
      mode: alertOnly ? 'alert' : dryRun ? 'dry-run' : 'enforce',
      selects: describe(policy),
    });
  }
  return compiled;
}

/**
 * Loads, checks and compiles policy files for the kernel: the agent's --policy and `policy
 * check` go through here, so what the check accepts is what the agent loads.
 */
export function loadPolicySet(paths: readonly string[], options: CompileOptions): CompiledPolicies {
  const loaded = loadPolicies(paths);
  const compiled = compilePolicies(loaded.policies, options);
  compiled.problems.unshift(...loaded.problems);
  try {
    validateKernelPolicies(compiled.kernel);
  } catch (error) {
    const first = compiled.summaries[0];
    compiled.problems.push({
      file: first?.file ?? paths[0] ?? '(none)',
      line: first?.line ?? 1,
      field: '(policies)',
      message: (error as Error).message,
    });
  }
  return compiled;
}
