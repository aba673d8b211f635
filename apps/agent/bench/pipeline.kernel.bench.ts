/**
 * The live pipeline on the real kernel: kernel-to-WebSocket latency of single execs, the
 * rate at which a burst of watched-file reads is stored (and whether any is lost), and the
 * agent's memory with 100,000 processes in its cache.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { kernelSkipReason, exitOf, waitFor } from '@proctrail/bpf/testing';
import type { ApiEvent } from '@proctrail/schema';
import { reportBench } from '../../../scripts/bench-report';
import { buildReader } from '../../../packages/bpf/src/testing/workloads';
import { createApiClient } from '../src/api/client';
import { startApiServer } from '../src/api/server';
import { LiveBus } from '../src/live/live-bus';
import { createAgentMetrics } from '../src/metrics/metrics';
import { Agent } from '../src/pipeline/agent';
import { ProcessCache } from '../src/process/process-cache';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';

const LATENCY_SAMPLES = 60;
const BURST_READS = 100_000;
const CACHED_PROCESSES = 100_000;

const skip = kernelSkipReason();
if (skip) {
  console.error(`pipeline benchmarks skipped: ${skip}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'proctrail-bench-'));
const logger = pino({ level: 'silent' });

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latencyAndRate(): Promise<void> {
  const store = SqliteStore.open(join(dir, 'pipeline.db'));
  const registry = new Registry();
  const bus = new LiveBus({ store, metrics: createAgentMetrics(registry) });
  const agent = await Agent.start({ store, logger, nodeName: 'bench', sink: bus });
  const server = await startApiServer({ store, bus, registry, listen: '127.0.0.1:0', logger });
  const client = createApiClient({ url: server.url });
  try {
    // Latency: the exec's own kernel time (in the event) to its arrival at a WebSocket client.
    const latencies: number[] = [];
    const marker = `latency-${process.pid}`;
    const subscription = client.trpc.event.live.subscribe(
      { args: marker, kinds: ['process_exec'] },
      {
        onData: ({ data }) => {
          const event = (data as ApiEvent).event as { time: string };
          const nanos = Number(event.time.slice(20, 29)) / 1e6;
          latencies.push(Date.now() - (Date.parse(`${event.time.slice(0, 19)}Z`) + nanos));
        },
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      await exitOf(spawn('/bin/echo', [marker], { stdio: 'ignore' }));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await waitFor(() => latencies.length >= LATENCY_SAMPLES, 'every exec to arrive', 20_000);
    subscription.unsubscribe();
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    reportBench({
      name: 'kernel to WebSocket client, one exec, p50',
      value: p50,
      unit: 'ms',
      goal: '< 20',
      met: p50 < 20,
      detail: `${LATENCY_SAMPLES} execs`,
    });
    reportBench({
      name: 'kernel to WebSocket client, one exec, p99',
      value: p99,
      unit: 'ms',
      goal: '< 100',
      met: p99 < 100,
      detail: `${LATENCY_SAMPLES} execs`,
    });

    // Rate: a burst of reads of a watched file, each one an event to build and store.
    const reader = await buildReader('/etc/passwd', BURST_READS);
    const before = agent.counters();
    const start = performance.now();
    spawnSync(reader, { stdio: 'ignore' });
    await waitFor(
      () => {
        const now = agent.counters();
        return now.stored - before.stored >= BURST_READS || now.sensor.lost > before.sensor.lost;
      },
      'the burst to be stored',
      300_000,
    );
    await agent.stop();
    const seconds = (performance.now() - start) / 1000;
    const after = agent.counters();
    const stored = after.stored - before.stored;
    const lost = after.sensor.lost - before.sensor.lost;
    const rate = stored / seconds;
    reportBench({
      name: 'pipeline: burst of watched-file reads stored',
      value: Math.round(rate),
      unit: 'events/s',
      goal: '>= 50000 without loss',
      met: rate >= 50_000 && lost === 0,
      detail: `${BURST_READS} reads: ${stored} events stored in ${seconds.toFixed(1)} s, ${lost} lost in the kernel`,
    });
  } finally {
    await client.close();
    bus.close();
    await server.close();
    await store.close();
  }
}

/**
 * The agent's memory with 100,000 live processes: a running agent (sensor, store, cache) and
 * a process cache filled the way execs fill it, in one process.
 */
async function cacheMemory(): Promise<void> {
  const store = SqliteStore.open(join(dir, 'memory.db'));
  const agent = await Agent.start({ store, logger, nodeName: 'bench' });
  global.gc?.();
  const before = process.memoryUsage().rss;
  const cache = new ProcessCache('bench');
  for (let pid = 1; pid <= CACHED_PROCESSES; pid++) {
    const execId = cache.execIdFor(BigInt(pid) * 1000n, pid);
    cache.set({
      execId,
      pid,
      startNs: BigInt(pid) * 1000n,
      origin: 'exec',
      exited: false,
      process: {
        exec_id: execId,
        pid,
        uid: 1000,
        cwd: '/srv/app',
        binary: '/usr/bin/python3',
        arguments: `worker.py --job ${pid}`,
        flags: 'execve clone',
        start_time: '2026-01-01T00:00:00.000000000Z',
        auid: 1000,
        parent_exec_id: execId,
        tid: pid,
        cap: { permitted: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], inheritable: [] },
      },
    });
  }
  global.gc?.();
  const mb = process.memoryUsage().rss / 1e6;
  await agent.stop();
  await store.close();
  reportBench({
    name: 'agent resident memory with 100,000 cached processes',
    value: Math.round(mb),
    unit: 'MB',
    goal: '< 250',
    met: mb < 250,
    detail: `RSS of a running agent plus a filled cache; the cache's share: ${Math.round(mb - before / 1e6)} MB`,
  });
}

try {
  await cacheMemory();
  await latencyAndRate();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
