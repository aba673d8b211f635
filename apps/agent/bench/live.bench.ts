/**
 * The agent's live path without the kernel: a flood of events pushed through the agent's
 * StoreBatcher into SQLite, published on the live bus and streamed over the API's WebSocket to
 * a subscriber in another process, as a dashboard would be. Measures the rate at which the
 * subscriber receives them, with event.live batched (liveBatchLink, one message per batch) and
 * one message per event, interleaved; and the longest the agent's event loop stalled meanwhile
 * (a stalled loop is a sensor not being read). Medians of several runs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseTetragonEvent } from '@proctrail/schema';
import { median, reportBench } from '../../../scripts/bench-report';
import { startApiServer } from '../src/api/server';
import { LiveBus } from '../src/live/live-bus';
import { createAgentMetrics } from '../src/metrics/metrics';
import { MAX_TRANSACTION_EVENTS, StoreBatcher } from '../src/pipeline/store-batcher';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import type { IngestItem } from '../src/store/types';
import { syntheticEventLines } from './synthetic-events';

const EVENTS = Number(process.env.LIVE_BENCH_EVENTS ?? 60_000);
const RUNS = Number(process.env.LIVE_BENCH_RUNS ?? 3);
/** Events per push: what one sensor batch hands the pipeline under a flood. */
const PUSH = Number(process.env.LIVE_BENCH_PUSH ?? 500);
/** LIVE_BENCH_MAX_TRANSACTION=Infinity measures one transaction per pending backlog. */
const MAX_TRANSACTION = Number(process.env.LIVE_BENCH_MAX_TRANSACTION ?? MAX_TRANSACTION_EVENTS);
type Mode = 'batched' | 'single';

const dir = mkdtempSync(join(tmpdir(), 'proctrail-live-bench-'));
const items: IngestItem[] = [];
for (const line of syntheticEventLines(EVENTS, 'live-bench')) {
  const raw = JSON.parse(line) as unknown;
  const outcome = parseTetragonEvent(raw);
  if (!outcome.ok) throw new Error('a synthetic event did not parse');
  items.push({ parsed: outcome.parsed, raw });
}

interface Outcome {
  /** Events per second the subscriber received, from the first push to its last event. */
  rate: number;
  /** The agent's longest event-loop stall, ms. */
  stallMs: number;
  /** How the subscriber ended if not with every event (SLOW_CONSUMER). */
  error?: string;
}

async function run(mode: Mode, index: number): Promise<Outcome> {
  const store = SqliteStore.open(join(dir, `${mode}-${index}.db`));
  const source = await store.source('agent:live-bench', 'agent');
  const registry = new Registry();
  const bus = new LiveBus({ store, metrics: createAgentMetrics(registry) });
  const server = await startApiServer({
    store,
    bus,
    registry,
    listen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
  });
  const batcher = new StoreBatcher(store, source, {
    maxTransactionEvents: MAX_TRANSACTION,
    onWritten: (result) => bus.publish(result.events),
  });
  const client = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL('./live-client.ts', import.meta.url).pathname,
      server.url,
      mode,
      String(EVENTS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: client.stdout });
  const nextLine = () =>
    new Promise<string>((resolve) => {
      lines.once('line', resolve);
      client.once('exit', () => resolve('ERROR the client exited'));
    });
  try {
    const started = await nextLine();
    if (started !== 'STARTED') throw new Error(`the client said ${started}`);
    while (bus.subscriberCount === 0) await new Promise((r) => setTimeout(r, 10));
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const finished = nextLine();
    const start = Date.now();
    for (let i = 0; i < items.length; i += PUSH) {
      batcher.push(items.slice(i, i + PUSH));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await batcher.stop();
    const line = await finished;
    loop.disable();
    const stallMs = loop.max / 1e6;
    if (!line.startsWith('DONE ')) return { rate: 0, stallMs, error: line.slice(6) };
    return { rate: EVENTS / ((Number(line.slice(5)) - start) / 1000), stallMs };
  } finally {
    client.kill();
    lines.close();
    await server.close();
    bus.close();
    await store.close();
  }
}

try {
  const outcomes: Record<Mode, Outcome[]> = { batched: [], single: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of ['single', 'batched'] as const) {
      const outcome = await run(mode, i);
      outcomes[mode].push(outcome);
      console.log(
        `${mode} run ${i + 1}: ${Math.round(outcome.rate)} events/s, loop stall ` +
          `${outcome.stallMs.toFixed(0)} ms${outcome.error ? `, ${outcome.error}` : ''}`,
      );
    }
  }
  for (const mode of ['batched', 'single'] as const) {
    const rates = outcomes[mode].map((o) => o.rate);
    const stalls = outcomes[mode].map((o) => o.stallMs);
    const dropped = outcomes[mode].filter((o) => o.error).length;
    const rate = median(rates);
    reportBench({
      name: `live path: events stored and received by a WebSocket subscriber, ${mode === 'batched' ? 'batched (event.live via liveBatchLink)' : 'one message per event'}`,
      value: Math.round(rate),
      unit: 'events/s',
      goal: mode === 'batched' ? '>= 50000, none dropped' : undefined,
      met: mode === 'batched' ? rate >= 50_000 && dropped === 0 : undefined,
      detail:
        `median of ${RUNS} runs of ${EVENTS} synthetic events pushed ${PUSH} at a time ` +
        `in transactions of ${MAX_TRANSACTION} at most (runs: ${rates.map(Math.round).join(', ')}); dropped as slow: ${dropped} of ${RUNS}; ` +
        `longest event-loop stall, median ${median(stalls).toFixed(0)} ms`,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
