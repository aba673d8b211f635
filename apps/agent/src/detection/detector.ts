import {
  eventTimeOf,
  subjectsOf,
  type Detection,
  type ParsedEvent,
  type TetragonProcess,
} from '@proctrail/schema';
import type { IngestItem, SourceInfo, Store, StoredEvent, WriteResult } from '../store/types';
import { DetectionEngine, type EngineEvent, type Finding } from './engine';

/**
 * Where the ancestors of an event's process come from: the store (a promise, awaited before
 * the rules run), or the live cache (a function, called only when a rule needs ancestry).
 */
export type AncestryLookup = (
  parsed: ParsedEvent,
  process: TetragonProcess,
) => Promise<readonly TetragonProcess[]> | (() => readonly TetragonProcess[]);

export interface DetectorOptions {
  /** Told about every detection stored for the first time: the bus, metrics, logs. */
  onDetections?: (detections: Detection[]) => void;
  /**
   * Findings beside the rules', per stored event that `wants` (a cheap test, before any
   * ancestry is looked up): vulnerable library loads.
   */
  alsoFind?: {
    wants: (parsed: ParsedEvent) => boolean;
    find: (event: EngineEvent) => Finding[];
  };
}

/** The deepest ancestry a rule looks at. */
export const ANCESTRY_LIMIT = 32;

/**
 * Pairs the items of a batch with the events the store kept. The store keeps them in order
 * and leaves duplicates out, so a stored event is the next item of the same kind, exec_id
 * and time; a duplicate was evaluated when it was first stored.
 */
export function pairStored(
  items: readonly IngestItem[],
  stored: readonly StoredEvent[],
): Array<{ item: IngestItem; event: StoredEvent }> {
  const pairs: Array<{ item: IngestItem; event: StoredEvent }> = [];
  forEachStored(items, stored, (item, event) => pairs.push({ item, event }));
  return pairs;
}

/** pairStored without the pairs: calls `visit` for each item the store kept, in order. */
function forEachStored(
  items: readonly IngestItem[],
  stored: readonly StoredEvent[],
  visit: (item: IngestItem, event: StoredEvent) => void,
): void {
  // Nothing left out, the usual case: the nth item is the nth event.
  if (stored.length === items.length && items.every((item, i) => sameKind(item, stored[i]!))) {
    for (let i = 0; i < items.length; i++) visit(items[i]!, stored[i]!);
    return;
  }
  let next = 0;
  for (const item of items) {
    const event = stored[next];
    if (!event) break;
    if (event.kind !== item.parsed.kind) continue;
    const execId = subjectsOf(item.parsed).process?.exec_id || null;
    if (event.execId !== execId || event.time !== (eventTimeOf(item.parsed) ?? null)) continue;
    visit(item, event);
    next++;
  }
}

function sameKind(item: IngestItem, event: StoredEvent): boolean {
  return item.parsed.kind === event.kind;
}

/** The chain an imported event names itself: its parent, then its `ancestors`. */
function embeddedAncestry(parsed: ParsedEvent): TetragonProcess[] {
  const subjects = subjectsOf(parsed);
  return subjects.parent ? [subjects.parent, ...subjects.ancestors] : [];
}

/**
 * Ancestry for imported events: the embedded `ancestors` when the export has them, else
 * the stored chain above the parent (the batch is written first, so it knows the parent
 * even when only this event named it). Make one per batch: it remembers each parent's chain,
 * which a process's exec, connects, reads and exit, and its siblings' events, all share; a
 * later batch may store ancestors this one lacked, so the memory must not outlive the batch.
 */
export function storeAncestry(store: Store, source: SourceInfo): AncestryLookup {
  const chains = new Map<string, Promise<TetragonProcess[]>>();
  return async (parsed, process) => {
    const embedded = embeddedAncestry(parsed);
    const parentExecId = process.parent_exec_id;
    if (embedded.length > 1 || !parentExecId) return embedded;
    let stored = chains.get(parentExecId);
    if (!stored) {
      stored = store.processChain(source, parentExecId, ANCESTRY_LIMIT);
      chains.set(parentExecId, stored);
    }
    const chain = await stored;
    return chain.length ? chain : embedded;
  };
}

/** A stored event that some rule or the extra finder looks at, with its process. */
interface WantedEvent {
  item: IngestItem;
  event: StoredEvent;
  process: TetragonProcess;
  byRules: boolean;
  byFinder: boolean;
}

/** Runs the engine over each stored batch and stores what it finds. */
export class Detector {
  constructor(
    readonly engine: DetectionEngine,
    private readonly store: Store,
    private readonly options: DetectorOptions = {},
  ) {}

  /** Evaluates a stored batch and stores what it finds (in a transaction of its own). */
  async afterWrite(
    source: SourceInfo,
    items: readonly IngestItem[],
    result: WriteResult,
    ancestry: AncestryLookup,
  ): Promise<Detection[]> {
    const wanted: WantedEvent[] = [];
    this.forEachWanted(items, result, (event) => wanted.push(event));
    const findings: Finding[] = [];
    for (const event of wanted) {
      const found = ancestry(event.item.parsed, event.process);
      const chain = found instanceof Promise ? await found : undefined;
      this.evaluate(
        event,
        chain ? () => chain : (found as () => readonly TetragonProcess[]),
        findings,
      );
    }
    if (findings.length === 0) return [];
    const created = await this.store.saveDetections(source, findings);
    this.stored(created);
    return created;
  }

  /**
   * Evaluates a batch with an ancestry at hand (the live process cache), without waiting: made
   * to run as Store.write's FindInBatch. What it returns is stored only if the batch commits:
   * pass the detections stored to stored(), or the findings to discard() when it rolls back.
   */
  find(
    items: readonly IngestItem[],
    result: WriteResult,
    ancestry: (process: TetragonProcess) => readonly TetragonProcess[],
  ): Finding[] {
    const findings: Finding[] = [];
    // A process's events and its siblings' share one chain: walk it once per batch.
    const chains = new Map<string, readonly TetragonProcess[]>();
    const chainOf = (process: TetragonProcess) => {
      const parentExecId = process.parent_exec_id;
      if (!parentExecId) return ancestry(process);
      let chain = chains.get(parentExecId);
      if (!chain) chains.set(parentExecId, (chain = ancestry(process)));
      return chain;
    };
    this.forEachWanted(items, result, (event) =>
      this.evaluate(event, () => chainOf(event.process), findings),
    );
    return findings;
  }

  /** Tells onDetections of detections stored for the first time. */
  stored(created: Detection[]): void {
    if (created.length) this.options.onDetections?.(created);
  }

  /** Findings of a batch that rolled back: a retry of the batch finds them again. */
  discard(findings: readonly Finding[]): void {
    this.engine.forget(findings);
  }

  /**
   * Calls `visit` for each stored event of a batch that some rule or the finder looks at. A
   * callback, not a generator: find() runs it inside the batch's transaction for every event.
   */
  private forEachWanted(
    items: readonly IngestItem[],
    result: WriteResult,
    visit: (event: WantedEvent) => void,
  ): void {
    const finder = this.options.alsoFind;
    forEachStored(items, result.events, (item, event) => {
      const process = subjectsOf(item.parsed).process;
      if (!process?.exec_id) return;
      const byRules = this.engine.wants(item.parsed);
      const byFinder = finder?.wants(item.parsed) ?? false;
      if (byRules || byFinder) visit({ item, event, process, byRules, byFinder });
    });
  }

  private evaluate(
    { item, event, byRules, byFinder }: WantedEvent,
    ancestors: () => readonly TetragonProcess[],
    findings: Finding[],
  ): void {
    const engineEvent: EngineEvent = {
      eventId: event.id,
      parsed: item.parsed,
      time: event.time ?? undefined,
      ancestors,
    };
    if (byRules) this.engine.evaluate(engineEvent, findings);
    if (byFinder) findings.push(...this.options.alsoFind!.find(engineEvent));
  }
}
