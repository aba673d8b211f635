import { containerIdOf, type TetragonProcess } from '@proctrail/schema';
import { baseName, workloadAgeSec, type MatchFacts, type RuleInput } from './compile';

/** What a template may say, each filled from the event that fired the rule. */
type Filler = (input: RuleInput, facts: MatchFacts) => string | undefined;

function named(process: TetragonProcess | undefined): string | undefined {
  return process?.binary ? baseName(process.binary) : undefined;
}

/** The ancestor a condition matched, else the parent. */
function ancestorOf(input: RuleInput, facts: MatchFacts): TetragonProcess | undefined {
  return facts.ancestor ?? input.ancestors()[0];
}

/** "73 minutes", "2 hours 5 minutes", "40 seconds". */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} seconds`;
  const minutes = Math.floor(s / 60);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} hours ${rest} minutes` : `${hours} hours`;
}

const FILLERS: Record<string, Filler> = {
  binary: (input) => input.process.binary,
  name: (input) => named(input.process),
  pid: (input) => input.process.pid?.toString(),
  arguments: (input) => input.process.arguments || 'no arguments',
  uid: (input) => input.process.uid?.toString(),
  'parent.binary': (input) => input.ancestors()[0]?.binary,
  'parent.name': (input) => named(input.ancestors()[0]),
  'parent.pid': (input) => input.ancestors()[0]?.pid?.toString(),
  'ancestor.binary': (input, facts) => ancestorOf(input, facts)?.binary,
  'ancestor.name': (input, facts) => named(ancestorOf(input, facts)),
  'ancestor.pid': (input, facts) => ancestorOf(input, facts)?.pid?.toString(),
  chain: (input) =>
    [input.process, ...input.ancestors()]
      .map((p) => `${named(p) ?? '?'} (pid ${p.pid ?? '?'})`)
      .join(' <- '),
  age: (input, facts) => {
    const age = facts.workloadAgeSec ?? workloadAgeSec(input);
    return age === undefined ? undefined : humanDuration(age);
  },
  // Without the cluster's API the cgroup still names the pod's UID.
  pod: (input) =>
    input.process.pod?.name
      ? `${input.process.pod.namespace ?? ''}/${input.process.pod.name}`
      : input.process.pod?.uid && `uid ${input.process.pod.uid}`,
  // A name, or the id cut to 12 digits as `docker ps` and `crictl ps` print it.
  container: (input) => {
    const process = input.process;
    return process.pod?.container?.name ?? containerIdOf(process)?.slice(0, 12);
  },
  remote: (input) =>
    input.network?.daddr ? `${input.network.daddr}:${input.network.dport ?? '?'}` : undefined,
  direction: (input) => input.network?.type,
  path: (input) => input.file?.path,
  operation: (input) => input.file?.operation,
  stdio: (input) =>
    (input.process.stdio_sockets ?? [])
      .map((s) => `fd ${s.fd} -> ${s.peer_address ?? '?'}:${s.peer_port ?? '?'}`)
      .join(', ') || undefined,
};

export const TEMPLATE_PLACEHOLDERS = Object.keys(FILLERS);

const PLACEHOLDER = /\{([a-z.]+)\}/g;

/** Placeholders a template names that no filler knows. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((name) => !FILLERS[name]);
}

/** Fills a template; a value the event does not carry reads "unknown". */
export function explain(template: string, input: RuleInput, facts: MatchFacts): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    const filler = FILLERS[name];
    return filler ? (filler(input, facts) ?? 'unknown') : whole;
  });
}
