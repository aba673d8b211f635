import type { ApiEvent } from '@proctrail/schema';

/**
 * Enforcements arranged for drawing. The agent stores each thing a prevention policy did (a
 * process killed at exec, a connect refused) or would have done (dry run, alert) as a
 * process_kprobe event in Tetragon's shape: `policy_name`, `action`, `message`, and `tags`
 * holding ENFORCEMENT_TAG and the outcome. Policy names and messages quote the policy file and
 * the traced processes: they are only ever rendered as text, never as markup.
 */

/** The tag every enforcement event carries (the agent's policy/enforcement-event.ts). */
export const ENFORCEMENT_TAG = 'proctrail-prevention';

/** blocked: the kernel acted; dry-run and alert: it only reported. */
export type EnforcementOutcome = 'blocked' | 'dry-run' | 'alert';

export interface Enforcement {
  /** The event's store id. */
  id: number;
  execId: string;
  time: string | null;
  policy: string;
  /** Tetragon's action: KPROBE_ACTION_SIGKILL, KPROBE_ACTION_OVERRIDE or KPROBE_ACTION_POST. */
  action: string;
  /** The hook that acted: sched_process_exec, cgroup_inet4_connect, cgroup_inet6_connect. */
  hook: string;
  outcome: EnforcementOutcome;
  message: string;
}

interface KprobeBody {
  policy_name?: unknown;
  action?: unknown;
  function_name?: unknown;
  message?: unknown;
  tags?: unknown;
}

const OUTCOMES: readonly EnforcementOutcome[] = ['blocked', 'dry-run', 'alert'];

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The enforcement an event records; undefined for any other event (other kprobes included). */
export function enforcementOf(event: ApiEvent): Enforcement | undefined {
  const body = (event.event as { process_kprobe?: KprobeBody }).process_kprobe;
  if (!body || !event.execId || !Array.isArray(body.tags)) return undefined;
  const tags = body.tags as unknown[];
  if (!tags.includes(ENFORCEMENT_TAG)) return undefined;
  const outcome = OUTCOMES.find((o) => tags.includes(o)) ?? 'alert';
  return {
    id: event.id,
    execId: event.execId,
    time: event.time,
    policy: text(body.policy_name) || '?',
    action: text(body.action),
    hook: text(body.function_name),
    outcome,
    message: text(body.message),
  };
}

/** Each process's enforcements in the order they were stored, by exec_id; each event once. */
export function enforcementsByExecId(events: readonly ApiEvent[]): Map<string, Enforcement[]> {
  const seen = new Set<number>();
  const byExecId = new Map<string, Enforcement[]>();
  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const found = enforcementOf(event);
    if (!found) continue;
    const list = byExecId.get(found.execId);
    if (list) list.push(found);
    else byExecId.set(found.execId, [found]);
  }
  return byExecId;
}

/** blocked when any of them blocked: a node's mark shows what the kernel did, if anything. */
export function strongestOutcome(found: readonly Enforcement[]): EnforcementOutcome | undefined {
  if (found.length === 0) return undefined;
  if (found.some((e) => e.outcome === 'blocked')) return 'blocked';
  if (found.some((e) => e.outcome === 'dry-run')) return 'dry-run';
  return 'alert';
}

/** The policy names, each once, in order: a mark's data attribute and its label. */
export function enforcingPolicies(found: readonly Enforcement[]): string[] {
  return [...new Set(found.map((e) => e.policy))];
}

/** A mark's title: one line per enforcement, "blocked by <policy>: <message>". */
export function enforcementsTooltip(found: readonly Enforcement[]): string {
  const verb = { blocked: 'blocked by', 'dry-run': 'dry run of', alert: 'alert from' } as const;
  return found.map((e) => `${verb[e.outcome]} ${e.policy}: ${e.message}`).join('\n');
}
