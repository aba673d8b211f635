/**
 * What the software inventory (binary hashing and library-load tracking) costs: the sensor
 * benchmark's build workload (make -j2 of small C files) under the whole agent (sensor, event
 * building, SQLite store) with the inventory on and off, in interleaved pairs (off/on, then
 * on/off) so that the shared machine's noise hits both alike.
 *
 * The figure is CPU time: the workload's (its processes' user+sys, BPF time included) plus the
 * agent's (this process's user+sys from start to a stop that has stored everything and
 * finished hashing). Each run starts a new agent on a new database file. The hash cache is
 * shared by the runs, as a long-running agent's would be: the steady state of a build host.
 * A first run with the inventory on fills it (hashing make, cc, cc1, as, ld and their
 * libraries); its cost is reported apart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import { median, reportBench } from '../../../scripts/bench-report';
import { generateCProject, timed } from '../../../packages/bpf/src/testing/workloads';
import { FileFactsCache } from '../src/inventory/facts-cache';
import { loadVulnerabilityRules } from '../src/inventory/vulnerability-rules';
import { Agent } from '../src/pipeline/agent';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';

const PAIRS = Number(process.env.INVENTORY_BENCH_PAIRS ?? 8);
const C_FILES = 150;
const TICKS_PER_MS = 100 / 1000; // USER_HZ

const skip = kernelSkipReason();
if (skip) {
  console.error(`inventory benchmark skipped: ${skip}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'proctrail-inventory-bench-'));
const logger = pino({ level: 'silent' });
const rules = loadVulnerabilityRules().rules;
const facts = new FileFactsCache();

/** user+sys of this process's waited-for children, in ms (clock-tick resolution). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_MS;
}

interface Run {
  wallMs: number;
  cpuMs: number;
  agentCpuMs: number;
  loads: number;
  hashed: number;
}

let runNumber = 0;

async function measure(inventory: boolean, project: string): Promise<Run> {
  const store = SqliteStore.open(join(dir, `run-${runNumber++}.db`));
  const agent = await Agent.start({
    store,
    logger,
    nodeName: 'bench',
    inventory: inventory && { rules, facts },
  });
  const children = childrenCpuMs();
  const own = process.cpuUsage();
  try {
    await timed('make', ['-s', 'clean'], project);
    const wallMs = await timed('make', ['-s', '-j2'], project);
    const counters = agent.counters();
    await agent.stop();
    const used = process.cpuUsage(own);
    const agentCpuMs = (used.user + used.system) / 1000;
    return {
      wallMs,
      cpuMs: childrenCpuMs() - children + agentCpuMs,
      agentCpuMs,
      loads: counters.inventory?.loads ?? 0,
      hashed: counters.inventory?.filesHashed ?? 0,
    };
  } finally {
    await agent.stop();
    await store.close();
  }
}

const pct = (on: number, off: number) => (on / off - 1) * 100;

const project = generateCProject(C_FILES);
try {
  await timed('make', ['-s', '-j2'], project); // warm the page cache
  const coldStarted = process.hrtime.bigint();
  const cold = await measure(true, project);
  const coldMs = Number(process.hrtime.bigint() - coldStarted) / 1e6;
  const pairs: Array<{ on: Run; off: Run }> = [];
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    const runs = new Map<boolean, Run>();
    for (const on of order) runs.set(on, await measure(on, project));
    pairs.push({ on: runs.get(true)!, off: runs.get(false)! });
  }
  const cpu = pairs.map((p) => pct(p.on.cpuMs, p.off.cpuMs));
  const wall = pairs.map((p) => pct(p.on.wallMs, p.off.wallMs));
  const agentExtra = pairs.map((p) => p.on.agentCpuMs - p.off.agentCpuMs);
  reportBench({
    name: `inventory on vs off, make -j2 of ${C_FILES} C files: CPU (workload + agent)`,
    value: median(cpu),
    unit: '%',
    goal: '< 1',
    met: median(cpu) < 1,
    detail:
      `median of ${PAIRS} interleaved pairs; pairs ${cpu.map((p) => p.toFixed(1)).join(', ')}; ` +
      `off ${median(pairs.map((p) => p.off.cpuMs)).toFixed(0)} ms CPU; agent CPU on-off ` +
      `${median(agentExtra).toFixed(0)} ms; ${median(pairs.map((p) => p.on.loads))} loads, ` +
      `${median(pairs.map((p) => p.on.hashed))} files hashed per run`,
  });
  const agentShare = pairs.map((p) => ((p.on.agentCpuMs - p.off.agentCpuMs) / p.off.cpuMs) * 100);
  reportBench({
    name: `inventory on vs off, make -j2 of ${C_FILES} C files: the agent's extra CPU`,
    value: median(agentShare),
    unit: '% of the build',
    goal: '< 1',
    met: median(agentShare) < 1,
    detail:
      `median of ${PAIRS} pairs of (agent CPU on - off) / (build + agent CPU off): the part the ` +
      `noise of make's own CPU time does not blur; pairs ${agentShare.map((p) => p.toFixed(1)).join(', ')}`,
  });
  reportBench({
    name: 'inventory: first build with an empty hash cache, agent CPU',
    value: cold.agentCpuMs,
    unit: 'ms',
    detail: `${cold.hashed} files hashed, ${cold.loads} loads; whole run ${coldMs.toFixed(0)} ms; steady-state agent CPU off ${median(pairs.map((p) => p.off.agentCpuMs)).toFixed(0)} ms`,
  });
  reportBench({
    name: `inventory on vs off, make -j2 of ${C_FILES} C files: wall time`,
    value: median(wall),
    unit: '%',
    detail: `median of ${PAIRS} interleaved pairs; pairs ${wall.map((p) => p.toFixed(1)).join(', ')}; off ${median(pairs.map((p) => p.off.wallMs)).toFixed(0)} ms`,
  });
} finally {
  rmSync(project, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}
