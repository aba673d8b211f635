/**
 * What prevention policies cost: the same workload under the sensor without policies and with
 * one, interleaved (off/on, then on/off) so that the shared machine's noise hits both alike.
 *
 * - exec: a spawn storm (/bin/true in a bash loop) under a policy that kills `nc` under that
 *   bash. Every exec of the storm is in the policy's scope and is checked in full (scope
 *   update, basename and path lookups, masks) and let through: the most an allowed exec pays.
 * - connect: a loop of loopback connects by bash (/dev/tcp) under an allow list that admits
 *   them: every connect is in scope, looked up in the trie, and allowed.
 *
 * Figures: the median over pairs of the on/off ratio of wall time, and of the workload's CPU
 * time (user+sys of its processes, where the hooks' BPF time is charged), as percentages.
 * Wall time on a shared machine swings by tens of percent between runs, and the workload's CPU
 * time by several: both are the whole machine's noise as much as the policy's cost. The third
 * figure is the policy's own: the mean run time of the hooks it adds work to, from the kernel's
 * BPF statistics (kernel.bpf_stats_enabled, on while the benchmark runs), with the policy
 * minus without, per iteration, against the CPU time an iteration of the workload takes.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, reportBench } from '../../../scripts/bench-report';
import type { KernelPolicy } from './policy';
import { startSensor } from './sensor';
import { kernelSkipReason } from './testing/kernel';

const PAIRS = 12;
const STORM = 2000;
const CONNECTS = 10_000;
const GOAL_PCT = 3;
const BPF_STATS = '/proc/sys/kernel/bpf_stats_enabled';

/**
 * The workload's CPU time in ms, from the `times` its bash prints last: user+sys of the shell
 * and of its waited-for children, which getrusage(2) keeps to the microsecond. (/proc's cutime
 * counts 10 ms ticks: a few hundred ms of work was then a handful of ticks.)
 */
function cpuMsOfTimes(output: string): number {
  const seconds = [...output.matchAll(/(\d+)m(\d+(?:\.\d+)?)s/g)].map(
    (m) => Number(m[1]) * 60 + Number(m[2]),
  );
  if (seconds.length !== 4) throw new Error(`unexpected output of times: ${output}`);
  return seconds.reduce((a, b) => a + b, 0) * 1000;
}

/** Runs `script` in the launcher bash; its wall time, and its CPU time (see cpuMsOfTimes). */
function run(launcher: string, script: string): Promise<{ wallMs: number; cpuMs: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(launcher, ['-c', `${script}; times`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (code !== 0) reject(new Error(`${launcher} exited with ${code}`));
      else resolve({ wallMs, cpuMs: cpuMsOfTimes(output) });
    });
  });
}

/**
 * A loopback listener in a process of its own that closes what it accepts. In this process
 * it shared the event loop with the sensor's batches: accepts waited behind them, the
 * backlog filled, and a connect now and then took a SYN retry (a second) - the noise of a
 * run was the listener's, not the policy's.
 */
async function startListener(): Promise<{ port: number; stop: () => void }> {
  const code = `const s = require('node:net').createServer((c) => c.destroy());
s.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (status) => reject(new Error(`the listener exited with ${status}`)));
    child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(Number(line)));
  });
  child.removeAllListeners('exit');
  return { port, stop: () => child.kill('SIGTERM') };
}

type Work = () => Promise<{ wallMs: number; cpuMs: number }>;

/** Run time and run count of a BPF program (kernel.bpf_stats_enabled must be 1). */
type ProgramStats = Map<string, { ns: number; runs: number }>;

/** The ids of the BPF programs this process holds (its sensor's): their fds' fdinfo names them. */
function ownProgramIds(): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      const id = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
      if (id) ids.add(Number(id[1]));
    } catch {
      // closed meanwhile
    }
  }
  return ids;
}

function programStats(ids: Set<number>): ProgramStats {
  const shown = JSON.parse(
    execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' }),
  ) as {
    id: number;
    name: string;
    run_time_ns?: number;
    run_cnt?: number;
  }[];
  const stats: ProgramStats = new Map();
  for (const program of shown) {
    if (ids.has(program.id)) {
      stats.set(program.name, { ns: program.run_time_ns ?? 0, runs: program.run_cnt ?? 0 });
    }
  }
  return stats;
}

/** What each program ran during the work: the difference of two readings. */
function statsDelta(before: ProgramStats, after: ProgramStats): ProgramStats {
  const delta: ProgramStats = new Map();
  for (const [name, end] of after) {
    const start = before.get(name) ?? { ns: 0, runs: 0 };
    delta.set(name, { ns: end.ns - start.ns, runs: end.runs - start.runs });
  }
  return delta;
}

interface Measured {
  wallMs: number;
  cpuMs: number;
  programs: ProgramStats;
}

async function measure(policies: readonly KernelPolicy[], work: Work): Promise<Measured> {
  const sensor = await startSensor({ policies, snapshot: false });
  sensor.on('batch', () => undefined);
  try {
    const ids = ownProgramIds();
    const before = programStats(ids);
    const result = await work();
    await sensor.settle(100);
    return { ...result, programs: statsDelta(before, programStats(ids)) };
  } finally {
    sensor.stop();
  }
}

/** Mean run time of `name` in ns; 0 when it did not run. */
function meanNs(stats: ProgramStats, name: string): number {
  const program = stats.get(name);
  return program && program.runs > 0 ? program.ns / program.runs : 0;
}

/**
 * `programs` are the hooks the policy adds work to, each run once per iteration of the
 * workload (a spawn: fork, exec, exit; a connect: connect4).
 */
async function compare(
  label: string,
  policies: readonly KernelPolicy[],
  work: Work,
  iterations: number,
  programs: readonly string[],
) {
  const wall: number[] = [];
  const cpu: number[] = [];
  const bpf: number[] = [];
  const addedNs: number[] = [];
  await measure([], work); // warm-up: page cache, JIT
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? [false, true] : [true, false];
    const result: Record<string, Measured> = {};
    for (const on of order) result[String(on)] = await measure(on ? policies : [], work);
    const withPolicy = result.true!;
    const without = result.false!;
    wall.push((withPolicy.wallMs / without.wallMs - 1) * 100);
    cpu.push((withPolicy.cpuMs / without.cpuMs - 1) * 100);
    // The hooks' mean run times, with and without: what the policy adds to one iteration,
    // against the CPU time one iteration of the workload takes without it.
    const added = programs.reduce(
      (sum, name) => sum + meanNs(withPolicy.programs, name) - meanNs(without.programs, name),
      0,
    );
    addedNs.push(added);
    bpf.push((added / ((without.cpuMs * 1e6) / iterations)) * 100);
  }
  const list = (values: number[], digits = 1) => values.map((v) => v.toFixed(digits)).join(', ');
  const row = (what: string, values: number[], detail: string) =>
    reportBench({
      name: `policy ${label}: ${what}`,
      value: Number(median(values).toFixed(2)),
      unit: '%',
      goal: `< ${GOAL_PCT}`,
      met: median(values) < GOAL_PCT,
      detail: `median of ${PAIRS} interleaved pairs; ${detail}`,
    });
  row('wall time, policy vs none', wall, `pairs ${list(wall)}`);
  row('workload CPU time, policy vs none', cpu, `pairs ${list(cpu)}`);
  row(
    "BPF time the policy adds, of the workload's CPU time",
    bpf,
    `${median(addedNs).toFixed(0)} ns per iteration in ${programs.join(', ')}; pairs ${list(bpf, 2)}`,
  );
}

async function main(): Promise<void> {
  const skip = kernelSkipReason();
  if (skip) {
    console.error(`policy bench skipped: ${skip}`);
    return;
  }
  // A bash of the benchmark's own name: the policies select nothing else on the host.
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-policy-bench-'));
  const launcher = join(dir, 'policy-bench-launcher');
  copyFileSync('/bin/bash', launcher);
  const listener = await startListener();
  const port = listener.port;
  // For the programs' run times; while on, every BPF program on the host pays two clock reads
  // a run, which is why it is off again as soon as the benchmark ends.
  const statsBefore = readFileSync(BPF_STATS, 'utf8');
  writeFileSync(BPF_STATS, '1');
  try {
    await compare(
      `exec (spawn storm of ${STORM})`,
      [{ on: 'exec', processBinaries: ['nc'], ancestorBinaries: [launcher] }],
      () => run(launcher, `for ((i = 0; i < ${STORM}; i++)); do /bin/true; done`),
      STORM,
      ['handle_fork', 'handle_exec', 'handle_exit'],
    );
    await compare(
      `connect (${CONNECTS} loopback connects)`,
      [
        {
          on: 'connect',
          processBinaries: [launcher],
          ancestorBinaries: [],
          destinations: {
            mode: 'allow',
            // 127.0.0.0/8 as ::ffff:127.0.0.0/104
            ranges: [
              {
                address: [...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 0],
                prefixLength: 104,
                ports: [],
              },
            ],
          },
        },
      ],
      () =>
        run(
          launcher,
          `for ((i = 0; i < ${CONNECTS}; i++)); do exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-; done`,
        ),
      CONNECTS,
      ['handle_connect4'],
    );
  } finally {
    writeFileSync(BPF_STATS, statsBefore);
    listener.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
