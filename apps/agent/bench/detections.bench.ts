/**
 * What detection rules cost the live write path: synthetic events (exec, connect, file read,
 * exit per process) pushed in batches through two stores in one run, one alone and one
 * followed by the built-in rules with an in-memory ancestry (as the process cache gives it).
 * The two take turns batch by batch, so a neighbour's load or a page-cache flush hits both
 * alike; the cost is the drop in events/s with rules. Median of several runs. Events are
 * parsed beforehand: the live pipeline builds them, it does not parse JSON. The rules run as
 * the agent runs them, inside each batch's transaction, their detections stored with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTetragonJson, subjectsOf, type TetragonProcess } from '@proctrail/schema';
import { median, reportBench } from '../../../scripts/bench-report';
import { Detector } from '../src/detection/detector';
import { DetectionEngine } from '../src/detection/engine';
import { loadRulesDir } from '../src/detection/load-rules';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import type { IngestItem, SourceInfo } from '../src/store/types';
import { syntheticEventLines } from './synthetic-events';

const EVENTS = 100_000;
const BATCH = 500;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const dir = mkdtempSync(join(tmpdir(), 'proctrail-detect-bench-'));

function parsedItems(): IngestItem[] {
  return [...syntheticEventLines(EVENTS)].map((line) => {
    const outcome = parseTetragonJson(line);
    if (!outcome.ok) throw new Error(outcome.problem.reason);
    return { parsed: outcome.parsed, raw: JSON.parse(line) as unknown };
  });
}

/** The process cache's part: exec_id -> process, walked upwards. */
function processCache() {
  const known = new Map<string, TetragonProcess>();
  return {
    remember(batch: readonly IngestItem[]) {
      for (const item of batch) {
        const process = subjectsOf(item.parsed).process;
        if (item.parsed.kind === 'process_exec' && process?.exec_id)
          known.set(process.exec_id, process);
      }
    },
    ancestry(parentExecId: string | undefined) {
      const chain: TetragonProcess[] = [];
      let next = parentExecId ? known.get(parentExecId) : undefined;
      while (next && chain.length < 32) {
        chain.push(next);
        next = next.parent_exec_id ? known.get(next.parent_exec_id) : undefined;
      }
      return chain;
    },
  };
}

async function openStore(name: string): Promise<{ store: SqliteStore; source: SourceInfo }> {
  const store = SqliteStore.open(join(dir, name));
  return { store, source: await store.source('bench', 'agent') };
}

/** One run: both pipelines over the same events, turn about per batch; times in ms. */
async function run(items: IngestItem[], index: number) {
  const plain = await openStore(`plain-${index}.db`);
  const ruled = await openStore(`rules-${index}.db`);
  const detector = new Detector(new DetectionEngine(loadRulesDir().rules), ruled.store);
  const plainCache = processCache();
  const ruledCache = processCache();
  let plainMs = 0;
  let ruledMs = 0;
  let rulesMs = 0;
  let detections = 0;

  const writePlain = async (batch: IngestItem[]) => {
    const start = performance.now();
    plainCache.remember(batch);
    await plain.store.write(plain.source, batch);
    plainMs += performance.now() - start;
  };
  // As the agent runs them: inside the batch's transaction, with the cache's ancestry.
  const writeRuled = async (batch: IngestItem[]) => {
    const start = performance.now();
    ruledCache.remember(batch);
    const result = await ruled.store.write(ruled.source, batch, (written) => {
      const rulesStart = performance.now();
      const findings = detector.find(batch, written, (process) =>
        ruledCache.ancestry(process.parent_exec_id),
      );
      rulesMs += performance.now() - rulesStart;
      return findings;
    });
    detections += result.detections.length;
    ruledMs += performance.now() - start;
  };

  for (let at = 0, turn = 0; at < items.length; at += BATCH, turn++) {
    const batch = items.slice(at, at + BATCH);
    // Who goes first swaps every batch: the second writer finds warmer caches.
    if (turn % 2) {
      await writePlain(batch);
      await writeRuled(batch);
    } else {
      await writeRuled(batch);
      await writePlain(batch);
    }
  }
  await plain.store.close();
  await ruled.store.close();
  return {
    withoutRate: items.length / (plainMs / 1000),
    withRate: items.length / (ruledMs / 1000),
    detections,
    rulesShare: rulesMs / ruledMs,
  };
}

try {
  const items = parsedItems();
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await run(items, i));
  const costs = runs.map((r) => 1 - r.withRate / r.withoutRate);
  const costPercent = median(costs) * 100;
  const percent = (x: number) => (x * 100).toFixed(1);
  reportBench({
    name: 'detection rules: cost on the store write path',
    value: Math.round(costPercent * 10) / 10,
    unit: '%',
    goal: '< 10',
    met: costPercent < 10,
    detail:
      `drop in events/s with ${loadRulesDir().rules.length} built-in rules, median of ${RUNS} ` +
      `runs of ${EVENTS} events in batches of ${BATCH}, both pipelines taking turns per batch ` +
      `(${runs[0]!.detections} detections a run); per run: ` +
      runs
        .map(
          (r, i) =>
            `${Math.round(r.withoutRate)} -> ${Math.round(r.withRate)} events/s ` +
            `(${percent(costs[i]!)}%, evaluating rules ${percent(r.rulesShare)}% of the time)`,
        )
        .join('; '),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
