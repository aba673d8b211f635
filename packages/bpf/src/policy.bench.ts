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
 * Wall time on a shared machine swings by tens of percent between runs; CPU time is the
 * steadier figure of the two.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, reportBench } from '../../../scripts/bench-report';
import type { KernelPolicy } from './policy';
import { startSensor } from './sensor';
import { kernelSkipReason } from './testing/kernel';

const PAIRS = 8;
const STORM = 2000;
const CONNECTS = 2000;
const GOAL_PCT = 3;

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

async function measure(
  policies: readonly KernelPolicy[],
  work: Work,
): Promise<{ wallMs: number; cpuMs: number }> {
  const sensor = await startSensor({ policies, snapshot: false });
  sensor.on('batch', () => undefined);
  try {
    const result = await work();
    await sensor.settle(100);
    return result;
  } finally {
    sensor.stop();
  }
}

async function compare(label: string, policies: readonly KernelPolicy[], work: Work) {
  const wall: number[] = [];
  const cpu: number[] = [];
  await measure([], work); // warm-up: page cache, JIT
  for (let pair = 0; pair < PAIRS; pair++) {
    const order = pair % 2 === 0 ? [false, true] : [true, false];
    const result: Record<string, { wallMs: number; cpuMs: number }> = {};
    for (const on of order) result[String(on)] = await measure(on ? policies : [], work);
    wall.push((result.true!.wallMs / result.false!.wallMs - 1) * 100);
    cpu.push((result.true!.cpuMs / result.false!.cpuMs - 1) * 100);
  }
  const list = (values: number[]) => values.map((v) => v.toFixed(1)).join(', ');
  reportBench({
    name: `policy ${label}: wall time, policy vs none`,
    value: median(wall),
    unit: '%',
    goal: `< ${GOAL_PCT}`,
    met: median(wall) < GOAL_PCT,
    detail: `median of ${PAIRS} interleaved pairs; pairs ${list(wall)}`,
  });
  reportBench({
    name: `policy ${label}: workload CPU time, policy vs none`,
    value: median(cpu),
    unit: '%',
    goal: `< ${GOAL_PCT}`,
    met: median(cpu) < GOAL_PCT,
    detail: `median of ${PAIRS} interleaved pairs; pairs ${list(cpu)}`,
  });
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
  try {
    await compare(
      `exec (spawn storm of ${STORM})`,
      [{ on: 'exec', processBinaries: ['nc'], ancestorBinaries: [launcher] }],
      () => run(launcher, `for ((i = 0; i < ${STORM}; i++)); do /bin/true; done`),
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
    );
  } finally {
    listener.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
