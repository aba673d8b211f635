import type { EnforceRecord } from '@proctrail/bpf';
import type { PolicySummary } from './compile';

/**
 * Tetragon's actions, as its enforcement events carry them: SIGKILL for a process killed,
 * OVERRIDE for a call whose return was forced (here: connect refused with EPERM), POST for an
 * event that only reports (dry run, alert).
 */
export const ENFORCEMENT_ACTIONS = {
  kill: 'KPROBE_ACTION_SIGKILL',
  'deny-connect': 'KPROBE_ACTION_OVERRIDE',
  reported: 'KPROBE_ACTION_POST',
} as const;

/** Marks every enforcement event, whatever its policy's name: `tags` holds it and the outcome. */
export const ENFORCEMENT_TAG = 'proctrail-prevention';

/** The hooks that acted, named as the kernel names them (Tetragon's `function_name`). */
const HOOKS = {
  kill: 'sched_process_exec',
  ipv4: 'cgroup_inet4_connect',
  ipv6: 'cgroup_inet6_connect',
} as const;

function destinationText(record: EnforceRecord): string {
  const destination = record.destination;
  if (!destination) return '';
  const address =
    destination.address.startsWith('::ffff:') && destination.address.includes('.')
      ? destination.address.slice(7)
      : destination.address;
  return destination.family === 'ipv6' && !address.includes('.')
    ? `[${address}]:${destination.port}`
    : `${address}:${destination.port}`;
}

/**
 * The process_kprobe body (without process and parent) of one enforcement. `binary` is the
 * killed process's, for the message. An unknown policy index (a record that outlived a
 * reload) is named by its index.
 */
export function enforcementPayload(
  record: EnforceRecord,
  policy: PolicySummary | undefined,
  binary: string | undefined,
): Record<string, unknown> {
  const name = policy?.name ?? `policy-${record.policyIndex}`;
  const blocked = record.outcome === 'blocked';
  const kill = record.action === 'kill';
  const what = kill
    ? `${blocked ? 'killed' : 'would have killed'} ${binary ?? 'the process'} at exec`
    : `${blocked ? 'refused' : 'would have refused'} a connect to ${destinationText(record)}`;
  const prefix =
    record.outcome === 'dry-run' ? 'dry run: ' : record.outcome === 'alert' ? 'alert: ' : '';
  const failed =
    kill && blocked && record.result !== 0 ? ` (the signal failed: ${record.result})` : '';
  return {
    function_name: kill ? HOOKS.kill : HOOKS[record.destination?.family ?? 'ipv4'],
    args: kill
      ? [{ string_arg: binary ?? '', label: 'binary' }]
      : [{ string_arg: destinationText(record), label: 'destination' }],
    // A refused connect returns -EPERM to its caller.
    return: { int_arg: kill ? record.result : blocked ? -1 : 0 },
    action: blocked ? ENFORCEMENT_ACTIONS[record.action] : ENFORCEMENT_ACTIONS.reported,
    policy_name: name,
    message: `${prefix}${what}${failed} (policy ${name}${policy ? `: ${policy.title}` : ''})`,
    tags: [ENFORCEMENT_TAG, record.outcome],
  };
}
