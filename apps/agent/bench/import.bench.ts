/**
 * Import throughput into SQLite and peak memory of a large import.
 * Throughput: synthetic events (exec, connect, file read, exit per process, ~870 bytes a
 * line) imported into a fresh database, the store alone and with the built-in rules as
 * `proctrail import` runs them; the median of several runs. Memory: one million
 * events streamed through `proctrail import -` in a child process; its peak resident size.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, reportBench } from '../../../scripts/bench-report';
import { Detector } from '../src/detection/detector';
import { DetectionEngine } from '../src/detection/engine';
import { loadRulesDir } from '../src/detection/load-rules';
import { importInputs } from '../src/import/importer';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { syntheticEventLines } from './synthetic-events';

const THROUGHPUT_EVENTS = 100_000;
const RUNS = 3;
const MEMORY_EVENTS = 1_000_000;

const dir = mkdtempSync(join(tmpdir(), 'proctrail-bench-'));

async function throughputRun(file: string, run: string, withRules: boolean): Promise<number> {
  const store = SqliteStore.open(join(dir, `throughput-${run}.db`));
  const source = await store.source('bench', 'import');
  const detector = withRules
    ? new Detector(new DetectionEngine(loadRulesDir().rules), store)
    : undefined;
  const start = performance.now();
  const summary = await importInputs(store, source, [file], undefined, detector);
  const seconds = (performance.now() - start) / 1000;
  await store.close();
  if (summary.stored !== THROUGHPUT_EVENTS) throw new Error(`stored ${summary.stored} events`);
  return THROUGHPUT_EVENTS / seconds;
}

async function peakImportMemoryMb(): Promise<{ mb: number; seconds: number }> {
  const cli = new URL('../bin/proctrail.js', import.meta.url).pathname;
  const start = performance.now();
  const child = spawn(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, cli, 'import', '-', '--db', join(dir, 'memory.db')],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  for (const line of syntheticEventLines(MEMORY_EVENTS)) {
    if (!child.stdin.write(`${line}\n`)) await new Promise((r) => child.stdin.once('drain', r));
  }
  child.stdin.end();
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`import exited with ${code}: ${stderr}`);
  const kib = Number(stderr.trim().split('\n').at(-1));
  return { mb: kib / 1024, seconds: (performance.now() - start) / 1000 };
}

try {
  const file = join(dir, 'events.jsonl');
  writeFileSync(file, [...syntheticEventLines(THROUGHPUT_EVENTS)].join('\n') + '\n');
  for (const withRules of [false, true]) {
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      rates.push(await throughputRun(file, `${run}-${withRules}`, withRules));
    }
    const rate = median(rates);
    reportBench({
      name: withRules ? 'import into SQLite, built-in rules on' : 'import into SQLite, store only',
      value: Math.round(rate),
      unit: 'events/s',
      goal: '>= 150000',
      met: rate >= 150_000,
      detail: `median of ${RUNS} runs of ${THROUGHPUT_EVENTS} events: ${rates.map((r) => Math.round(r)).join(', ')}`,
    });
  }

  const memory = await peakImportMemoryMb();
  reportBench({
    name: 'peak memory, import of 1M events',
    value: Math.round(memory.mb),
    unit: 'MB',
    goal: '< 300',
    met: memory.mb < 300,
    detail: `maximum resident size of proctrail import - (streamed), ${Math.round(memory.seconds)} s`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
