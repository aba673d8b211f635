import {
  fileEdgesOf,
  networkEdgesOf,
  subjectsOf,
  type DetectionAncestor,
  type DetectionSeverity,
  type ParsedEvent,
  type TetragonProcess,
} from '@proctrail/schema';
import { compileRule, type CompiledRule, type RuleInput } from './compile';
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

/**
 * Runs rules over events. Rules are grouped by the event classes they look at, so an event
 * no rule cares about costs one lookup; ancestry is fetched only when a rule asks for it.
 * Dedupe here is per engine (one run); the store's unique index holds it across runs.
 */
export class DetectionEngine {
  private readonly byClass = new Map<EventClass, CompiledRule[]>();
  private readonly seen = new Set<string>();

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
  }

  /** Whether any rule looks at events of this kind: exits and unknown kinds cost nothing. */
  wants(parsed: ParsedEvent): boolean {
    if (parsed.kind === 'process_exec') return this.byClass.has('exec');
    if (parsed.kind === 'process_exit') return false;
    return this.byClass.size > (this.byClass.has('exec') ? 1 : 0);
  }

  evaluate(event: EngineEvent): Finding[] {
    const process = subjectsOf(event.parsed).process;
    if (!process?.exec_id) return [];
    let ancestry: readonly TetragonProcess[] | undefined;
    const base = {
      process,
      ancestors: () => (ancestry ??= event.ancestors()),
    };
    const findings: Finding[] = [];
    for (const input of this.inputsOf(event.parsed, base)) {
      for (const compiled of this.byClass.get(input.on) ?? []) {
        const found = this.run(compiled, input.input, event);
        if (found) findings.push(found);
      }
    }
    return findings;
  }

  private *inputsOf(
    parsed: ParsedEvent,
    base: RuleInput,
  ): Generator<{ on: EventClass; input: RuleInput }> {
    if (parsed.kind === 'process_exec') {
      if (this.byClass.has('exec')) yield { on: 'exec', input: base };
      return;
    }
    if (parsed.kind === 'process_exit') return;
    if (this.byClass.has('connect') || this.byClass.has('accept')) {
      for (const network of networkEdgesOf(parsed)) {
        if (network.type === 'connect' || network.type === 'accept') {
          yield { on: network.type, input: { ...base, network } };
        }
      }
    }
    if (this.byClass.has('file')) {
      for (const file of fileEdgesOf(parsed)) yield { on: 'file', input: { ...base, file } };
    }
  }

  private run(compiled: CompiledRule, input: RuleInput, event: EngineEvent): Finding | undefined {
    const { rule } = compiled;
    const execId = input.process.exec_id!;
    const dedupeKey = dedupeKeyOf(rule, input);
    const key = `${rule.name}\u0000${execId}\u0000${dedupeKey}`;
    if (this.seen.has(key)) return undefined;
    const facts = compiled.test(input);
    if (!facts) return undefined;
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
}

function dedupeKeyOf(rule: Rule, input: RuleInput): string {
  if (rule.dedupe === 'remote' && input.network)
    return `${input.network.daddr ?? ''}:${input.network.dport ?? ''}`;
  if (rule.dedupe === 'path' && input.file) return input.file.path;
  return '';
}
