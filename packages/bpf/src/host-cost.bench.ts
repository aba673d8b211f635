/**
 * What the sensor costs the host: the same workload with the sensor running (all hooks) and
 * not, interleaved in one run so that the machine's noise hits both alike. Reported: the
 * median of the per-pair slowdowns.
 */
import { rmSync } from 'node:fs';
import { median, reportBench } from '../../../scripts/bench-report';
import { startSensor } from './sensor';
import { kernelSkipReason } from './testing/kernel';
import { generateCProject, timed } from './testing/workloads';

const PAIRS = 7;
const C_FILES = 150;
const STORM = 3000;

async function withSensor<T>(on: boolean, work: () => Promise<T>): Promise<T> {
  if (!on) return work();
  const sensor = await startSensor();
  let records = 0;
  sensor.on('batch', (batch) => (records += batch.length));
  try {
    return await work();
  } finally {
    await sensor.settle(100);
    sensor.stop();
  }
}

/** Slowdown in % of `on` over `off`, per pair, order alternating within pairs. */
async function slowdowns(work: () => Promise<number>): Promise<{ pct: number[]; offMs: number[] }> {
  const pct: number[] = [];
  const offMs: number[] = [];
  await work(); // warm caches: the first build reads every header from disk
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    const times = new Map<boolean, number>();
    for (const on of order) times.set(on, await withSensor(on, work));
    pct.push((times.get(true)! / times.get(false)! - 1) * 100);
    offMs.push(times.get(false)!);
  }
  return { pct, offMs };
}

const skip = kernelSkipReason();
if (skip) {
  console.error(`host-cost bench skipped: ${skip}`);
  process.exit(0);
}

const project = generateCProject(C_FILES);
try {
  const build = await slowdowns(async () => {
    await timed('make', ['-s', 'clean'], project);
    return timed('make', ['-s', '-j2'], project);
  });
  reportBench({
    name: `make -j2 of ${C_FILES} C files, sensor on vs off`,
    value: median(build.pct),
    unit: '%',
    goal: '< 2',
    met: median(build.pct) < 2,
    detail: `median of ${PAIRS} interleaved pairs; off ${median(build.offMs).toFixed(0)} ms; pairs ${build.pct.map((p) => p.toFixed(1)).join(', ')}`,
  });

  const storm = await slowdowns(() =>
    timed('bash', ['-c', `for ((i = 0; i < ${STORM}; i++)); do /bin/true; done`]),
  );
  reportBench({
    name: `spawn storm of ${STORM} /bin/true, sensor on vs off`,
    value: median(storm.pct),
    unit: '%',
    goal: '< 5',
    met: median(storm.pct) < 5,
    detail: `median of ${PAIRS} interleaved pairs; off ${median(storm.offMs).toFixed(0)} ms; pairs ${storm.pct.map((p) => p.toFixed(1)).join(', ')}`,
  });
} finally {
  rmSync(project, { recursive: true, force: true });
}
