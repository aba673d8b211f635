/**
 * What detection rules cost the live write path: synthetic events (exec, connect, file read,
 * exit per process) pushed in batches through store.write, once alone and once followed by
 * the built-in rules with an in-memory ancestry (as the process cache gives it), in one run,
 * alternating, median of several. Events are parsed beforehand: the live pipeline builds
 * them, it does not parse JSON.
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
import type { IngestItem } from '../src/store/types';
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

async function run(items: IngestItem[], withRules: boolean, index: number) {
  const store = SqliteStore.open(join(dir, `${withRules ? 'rules' : 'plain'}-${index}.db`));
  const source = await store.source('bench', 'agent');
  const detector = new Detector(new DetectionEngine(loadRulesDir().rules), store);
  // The process cache's part: exec_id -> process, walked upwards.
  const known = new Map<string, TetragonProcess>();
  const ancestry = (parentExecId: string | undefined) => {
    const chain: TetragonProcess[] = [];
    let next = parentExecId ? known.get(parentExecId) : undefined;
    while (next && chain.length < 32) {
      chain.push(next);
      next = next.parent_exec_id ? known.get(next.parent_exec_id) : undefined;
    }
    return chain;
  };
  let detections = 0;
  let rulesMs = 0;
  const start = performance.now();
  for (let at = 0; at < items.length; at += BATCH) {
    const batch = items.slice(at, at + BATCH);
    for (const item of batch) {
      const process = subjectsOf(item.parsed).process;
      if (item.parsed.kind === 'process_exec' && process?.exec_id)
        known.set(process.exec_id, process);
    }
    const result = await store.write(source, batch);
    if (withRules) {
      const rulesStart = performance.now();
      const found = await detector.afterWrite(
        source,
        batch,
        result,
        (_p, process) => () => ancestry(process.parent_exec_id),
      );
      detections += found.length;
      rulesMs += performance.now() - rulesStart;
    }
  }
  const totalMs = performance.now() - start;
  await store.close();
  return { rate: items.length / (totalMs / 1000), detections, rulesShare: rulesMs / totalMs };
}

try {
  const items = parsedItems();
  const plain: number[] = [];
  const ruled: number[] = [];
  let detections = 0;
  const shares: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    plain.push((await run(items, false, i)).rate);
    const withRules = await run(items, true, i);
    ruled.push(withRules.rate);
    detections = withRules.detections;
    shares.push(withRules.rulesShare);
  }
  const without = median(plain);
  const withRules = median(ruled);
  // The store's own rate swings by a quarter between identical runs (WAL checkpoints, page
  // cache), more than the rules cost: the verdict is the share of the with-rules run's
  // time spent evaluating rules and storing detections, measured around those calls.
  const costPercent = median(shares) * 100;
  reportBench({
    name: 'detection rules: cost on the store write path',
    value: Math.round(costPercent * 10) / 10,
    unit: '%',
    goal: '< 10',
    met: costPercent < 10,
    detail:
      `share of write-path time in rule evaluation; throughput ${Math.round(without)} ` +
      `events/s without rules, ${Math.round(withRules)} with ` +
      `${loadRulesDir().rules.length} built-in rules (${detections} detections); median of ${RUNS} ` +
      `alternating runs of ${EVENTS} events in batches of ${BATCH}; without: ` +
      `${plain.map(Math.round).join(', ')}; with: ${ruled.map(Math.round).join(', ')}; shares: ${shares.map((x) => (x * 100).toFixed(1)).join(', ')}%`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
