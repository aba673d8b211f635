/**
 * What the sensor costs the host: the same workload with the sensor running (all hooks) and
 * not, interleaved (off/on, then on/off) so that the machine's noise hits both alike.
 *
 * Per workload, three figures:
 * - wall time: median of the per-pair slowdowns, with their interquartile range;
 * - CPU time: the workload's user+sys (its children's, from /proc/self/stat) plus the sensor's
 *   own (this process's, where the poll thread and the decoder run). Kernel-side BPF time is
 *   charged to the workload's sys time. CPU time varies far less than wall time on a shared
 *   host, where wall time also measures who else was running;
 * - BPF run time per program, from the kernel's own accounting (BPF_ENABLE_STATS), in a
 *   separate run: timing every program run costs two clock reads, which the paired runs must
 *   not pay. Reported as average ns per run and share of the workload's CPU time, like
 *   Tetragon's `tetra debug progs`. Limitation: the hooks are host-wide, so the runs and the time
 *   include every other process running meanwhile (the share is then too high), and the kernel's
 *   timing adds its own clock reads to each run (about 80 ns here: a sys_enter that returns at
 *   its second instruction is reported at 77 to 96 ns).
 */
import { readFileSync, rmSync } from 'node:fs';
import { median, reportBench } from '../../../scripts/bench-report';
import type { ProgramRunStats } from './native';
import { startSensor, type Sensor } from './sensor';
import { kernelSkipReason } from './testing/kernel';
import { generateCProject, timed } from './testing/workloads';

const PAIRS = 16;
const C_FILES = 150;
const STORM = 3000;
const TICKS_PER_MS = 100 / 1000; // USER_HZ

interface Run {
  wallMs: number;
  /** user+sys of the workload's processes */
  workloadCpuMs: number;
  /** user+sys of this process while the sensor ran: poll thread, decoding, listeners */
  sensorCpuMs: number;
}

/** user+sys of this process's waited-for children, in ms (clock-tick resolution). */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime) are at 13 and 14 after the command name.
  return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_MS;
}

function ownCpuMs(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function measure(on: boolean, work: () => Promise<number>): Promise<Run> {
  const sensor = on ? await startSensor() : undefined;
  sensor?.on('batch', () => undefined);
  const children = childrenCpuMs();
  const own = process.cpuUsage();
  try {
    const wallMs = await work();
    await sensor?.settle(100);
    return {
      wallMs,
      workloadCpuMs: childrenCpuMs() - children,
      sensorCpuMs: on ? ownCpuMs(own) : 0,
    };
  } finally {
    sensor?.stop();
  }
}

/** Linear-interpolated quantile of a non-empty list. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

function spread(values: readonly number[]): string {
  return `IQR ${quantile(values, 0.25).toFixed(1)}..${quantile(values, 0.75).toFixed(1)}`;
}

const pct = (on: number, off: number) => (on / off - 1) * 100;

async function pairs(work: () => Promise<number>): Promise<Array<{ on: Run; off: Run }>> {
  const out: Array<{ on: Run; off: Run }> = [];
  await work(); // warm caches: the first build reads every header from disk
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    const runs = new Map<boolean, Run>();
    for (const on of order) runs.set(on, await measure(on, work));
    out.push({ on: runs.get(true)!, off: runs.get(false)! });
  }
  return out;
}

/** One run with the kernel timing every program: per-program cost of this workload. */
async function programCost(
  work: () => Promise<number>,
): Promise<{ stats: ProgramRunStats[]; workloadCpuMs: number }> {
  const sensor: Sensor = await startSensor();
  sensor.on('batch', () => undefined);
  try {
    sensor.enableRunTimeStats();
    const before = new Map(sensor.programStats().map((p) => [p.name, p]));
    const children = childrenCpuMs();
    await work();
    await sensor.settle(100);
    const workloadCpuMs = childrenCpuMs() - children;
    const stats = sensor.programStats().map((p) => ({
      name: p.name,
      runTimeNs: p.runTimeNs - (before.get(p.name)?.runTimeNs ?? 0),
      runCount: p.runCount - (before.get(p.name)?.runCount ?? 0),
    }));
    return { stats: stats.filter((p) => p.runCount > 0), workloadCpuMs };
  } finally {
    sensor.stop();
  }
}

async function report(label: string, goalPct: number, work: () => Promise<number>) {
  const runs = await pairs(work);
  const wall = runs.map((r) => pct(r.on.wallMs, r.off.wallMs));
  const cpu = runs.map((r) => pct(r.on.workloadCpuMs + r.on.sensorCpuMs, r.off.workloadCpuMs));
  const workloadCpu = runs.map((r) => pct(r.on.workloadCpuMs, r.off.workloadCpuMs));
  const sensorCpu = runs.map((r) => r.on.sensorCpuMs);
  const offWall = median(runs.map((r) => r.off.wallMs));
  const offCpu = median(runs.map((r) => r.off.workloadCpuMs));

  reportBench({
    name: `${label}: wall time, sensor on vs off`,
    value: median(wall),
    unit: '%',
    goal: `< ${goalPct}`,
    met: median(wall) < goalPct,
    detail: `median of ${PAIRS} interleaved pairs, ${spread(wall)}; off ${offWall.toFixed(0)} ms; pairs ${wall.map((p) => p.toFixed(1)).join(', ')}`,
  });
  reportBench({
    name: `${label}: CPU time (workload + sensor), on vs off`,
    value: median(cpu),
    unit: '%',
    goal: `< ${goalPct}`,
    met: median(cpu) < goalPct,
    detail: `median of ${PAIRS} pairs, ${spread(cpu)}; workload alone ${median(workloadCpu).toFixed(1)}% (${spread(workloadCpu)}); sensor process ${median(sensorCpu).toFixed(0)} ms per run; off ${offCpu.toFixed(0)} ms CPU`,
  });

  const { stats, workloadCpuMs } = await programCost(work);
  const totalNs = stats.reduce((sum, p) => sum + p.runTimeNs, 0);
  const perProgram = stats
    .sort((a, b) => b.runTimeNs - a.runTimeNs)
    .map(
      (p) =>
        `${p.name} ${p.runCount} runs x ${(p.runTimeNs / p.runCount).toFixed(0)} ns = ${(p.runTimeNs / 1e6).toFixed(1)} ms (${((p.runTimeNs / totalNs) * 100).toFixed(0)}%)`,
    );
  reportBench({
    name: `${label}: BPF run time, share of workload CPU`,
    value: (totalNs / 1e6 / workloadCpuMs) * 100,
    unit: '%',
    detail: `${(totalNs / 1e6).toFixed(1)} ms in BPF of ${workloadCpuMs.toFixed(0)} ms CPU, one run with BPF stats on; ${perProgram.join('; ')}`,
  });
}

const skip = kernelSkipReason();
if (skip) {
  console.error(`host-cost bench skipped: ${skip}`);
  process.exit(0);
}

const project = generateCProject(C_FILES);
try {
  await report(`make -j2 of ${C_FILES} C files`, 2, async () => {
    await timed('make', ['-s', 'clean'], project);
    return timed('make', ['-s', '-j2'], project);
  });
  await report(`spawn storm of ${STORM} /bin/true`, 5, () =>
    timed('bash', ['-c', `for ((i = 0; i < ${STORM}; i++)); do /bin/true; done`]),
  );
} finally {
  rmSync(project, { recursive: true, force: true });
}
