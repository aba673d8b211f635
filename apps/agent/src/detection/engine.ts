import {
  fileEdgesOf,
  networkEdgesOf,
  normalizeFilePath,
  type FileEdge,
  type NetworkEdge,
  subjectsOf,
  type DetectionAncestor,
  type DetectionSeverity,
  type ParsedEvent,
  type TetragonProcess,
} from '@proctrail/schema';
import { compileRule, pathTest, type CompiledRule, type RuleInput } from './compile';
import { explain } from './explain';
import type { Rule } from './rule-schema';

/** A detection before it is stored: what the engine found in one event. */
export interface Finding {
  rule: string;
  severity: DetectionSeverity;
  title: string;
  execId: string;
  pid?: number;
  binary?: string;
  nodeName?: string;
  time?: string;
  ancestors: DetectionAncestor[];
  evidenceEventIds: number[];
  explanation: string;
  /** With rule and exec_id, what makes a finding new: "" for one per process. */
  dedupeKey: string;
}

/** One stored event to evaluate, and where its process's ancestors come from. */
export interface EngineEvent {
  eventId: number;
  parsed: ParsedEvent;
  /** The sortable time of the event. */
  time?: string;
  /** Parent first. Called only when a rule needs ancestry, at most once per event. */
  ancestors: () => readonly TetragonProcess[];
}

type EventClass = Rule['on'][number];

/** Ancestors kept in a detection: enough for any real chain, bounded for a runaway one. */
const ANCESTORS_KEPT = 32;

/** Kinds that carry connections as flat fields (older Tetragon exports). */
const LEGACY_CONNECTS = new Set<ParsedEvent['kind']>(['process_connect']);

interface HookArgument {
  sock_arg?: unknown;
  sockaddr_arg?: unknown;
  file_arg?: unknown;
  path_arg?: unknown;
  linux_binprm_arg?: unknown;
  string_arg?: unknown;
}

function hookArguments(parsed: ParsedEvent): readonly HookArgument[] {
  return (parsed.body as { args?: HookArgument[] }).args ?? [];
}

/**
 * Whether an event can name a connect or an accept: the edge builders parse every argument,
 * so events without a socket argument (file reads, most kprobes) skip them.
 */
function mayConnect(parsed: ParsedEvent): boolean {
  if (LEGACY_CONNECTS.has(parsed.kind)) return true;
  if (parsed.kind !== 'process_kprobe') return false;
  return hookArguments(parsed).some((arg) => arg.sock_arg || arg.sockaddr_arg);
}

type PathArgument = { path?: string } | undefined;

/**
 * A test that no file rule can match a path, built from the paths of every file rule: when
 * one of them matches any path, every path passes. Most file events (a service reading its
 * own data) fail it, and then their file edges are never built.
 */
function filePathFilter(rules: readonly CompiledRule[] | undefined): (path: string) => boolean {
  const patterns: string[] = [];
  for (const { rule } of rules ?? []) {
    for (const match of rule.anyOf ?? (rule.match ? [rule.match] : [{}])) {
      if (!match.file) return () => true;
      patterns.push(...match.file.path);
    }
  }
  return pathTest(patterns);
}

/**
 * Whether an event can name a file some rule looks for: a hook argument with a path, or (for
 * open syscalls) a string, that passes the rules' path filter.
 */
function mayTouchWatchedFile(parsed: ParsedEvent, wanted: (path: string) => boolean): boolean {
  if (parsed.kind !== 'process_kprobe' && parsed.kind !== 'process_lsm') return false;
  return hookArguments(parsed).some((arg) => {
    const file = (arg.file_arg ?? arg.path_arg ?? arg.linux_binprm_arg) as PathArgument;
    const path = file?.path ?? (typeof arg.string_arg === 'string' ? arg.string_arg : undefined);
    return path !== undefined && path !== '' && wanted(normalizeFilePath(path));
  });
}

/** One event's subject for the rules; its ancestry is fetched on first use, then kept. */
class EventRuleInput implements RuleInput {
  network?: NetworkEdge;
  file?: FileEdge;
  private chain: readonly TetragonProcess[] | undefined;

  constructor(
    readonly process: TetragonProcess,
    private readonly event: EngineEvent,
  ) {}

  ancestors(): readonly TetragonProcess[] {
    return (this.chain ??= this.event.ancestors());
  }
}

/**
 * Runs rules over events. Rules are indexed by the event classes they look at, so an event
 * meets only the rules that can match it, and edges are built only for events some rule
 * reads; ancestry is fetched only when a rule asks for it, once per event. Dedupe here is
 * per engine (one run); the store's unique index holds it across runs.
 */
export class DetectionEngine {
  private readonly byClass = new Map<EventClass, CompiledRule[]>();
  private readonly seen = new Set<string>();
  private readonly watchedPath: (path: string) => boolean;

  constructor(readonly rules: readonly Rule[]) {
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const compiled = compileRule(rule);
      for (const on of rule.on) {
        const list = this.byClass.get(on) ?? [];
        list.push(compiled);
        this.byClass.set(on, list);
      }
    }
    this.watchedPath = filePathFilter(this.byClass.get('file'));
  }

  /** Whether any rule looks at events of this kind: exits and unknown kinds cost nothing. */
  wants(parsed: ParsedEvent): boolean {
    if (parsed.kind === 'process_exec') return this.byClass.has('exec');
    if (parsed.kind === 'process_exit') return false;
    return this.byClass.size > (this.byClass.has('exec') ? 1 : 0);
  }

  /** What the rules find in one event, appended to `findings` (a batch's list) and returned. */
  evaluate(event: EngineEvent, findings: Finding[] = []): Finding[] {
    const parsed = event.parsed;
    const process = subjectsOf(parsed).process;
    if (!process?.exec_id) return findings;
    const input = new EventRuleInput(process, event);
    if (parsed.kind === 'process_exec') {
      this.runAll(this.byClass.get('exec'), input, event, findings);
      return findings;
    }
    const connects = this.byClass.get('connect');
    const accepts = this.byClass.get('accept');
    if ((connects || accepts) && mayConnect(parsed)) {
      for (const network of networkEdgesOf(parsed)) {
        const rules =
          network.type === 'connect' ? connects : network.type === 'accept' ? accepts : undefined;
        if (!rules) continue;
        input.network = network;
        this.runAll(rules, input, event, findings);
      }
      input.network = undefined;
    }
    const fileRules = this.byClass.get('file');
    if (fileRules && mayTouchWatchedFile(parsed, this.watchedPath)) {
      for (const file of fileEdgesOf(parsed)) {
        input.file = file;
        this.runAll(fileRules, input, event, findings);
      }
    }
    return findings;
  }

  private runAll(
    rules: readonly CompiledRule[] | undefined,
    input: RuleInput,
    event: EngineEvent,
    findings: Finding[],
  ): void {
    if (!rules) return;
    for (const compiled of rules) {
      const found = this.run(compiled, input, event);
      if (found) findings.push(found);
    }
  }

  /** The rule's test first: it is cheaper than the dedupe key, and most events fail it. */
  private run(compiled: CompiledRule, input: RuleInput, event: EngineEvent): Finding | undefined {
    const facts = compiled.test(input);
    if (!facts) return undefined;
    const { rule } = compiled;
    const execId = input.process.exec_id!;
    const dedupeKey = dedupeKeyOf(rule, input);
    const key = dedupeMemoryKey(rule.name, execId, dedupeKey);
    if (this.seen.has(key)) return undefined;
    this.remember(key);
    return {
      rule: rule.name,
      severity: compiled.severityFor(input, facts),
      title: rule.title,
      execId,
      pid: input.process.pid,
      binary: input.process.binary,
      nodeName: event.parsed.envelope.node_name,
      time: event.time,
      ancestors: input
        .ancestors()
        .slice(0, ANCESTORS_KEPT)
        .map((a) => ({ execId: a.exec_id, pid: a.pid, binary: a.binary })),
      evidenceEventIds: [event.eventId],
      explanation: explain(rule.explanation, input, facts),
      dedupeKey,
    };
  }

  /** The in-memory dedupe set is bounded; past it, the store's unique index still dedupes. */
  private remember(key: string): void {
    if (this.seen.size >= 100_000) this.seen.clear();
    this.seen.add(key);
  }

  /** Findings that were never stored (their transaction rolled back) may be found again. */
  forget(findings: readonly Finding[]): void {
    for (const f of findings) this.seen.delete(dedupeMemoryKey(f.rule, f.execId, f.dedupeKey));
  }
}

function dedupeMemoryKey(rule: string, execId: string, dedupeKey: string): string {
  return `${rule}\u0000${execId}\u0000${dedupeKey}`;
}

function dedupeKeyOf(rule: Rule, input: RuleInput): string {
  if (rule.dedupe === 'remote' && input.network)
    return `${input.network.daddr ?? ''}:${input.network.dport ?? ''}`;
  if (rule.dedupe === 'path' && input.file) return input.file.path;
  return '';
}
