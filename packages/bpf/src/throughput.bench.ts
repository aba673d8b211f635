/**
 * Records per second through ring buffer -> binding -> decoded JS objects, in a burst of one
 * million file events: a compiled program pread()s one byte of a watched file in a tight loop.
 * Rate = records / (last batch decoded - program start). Lost must stay 0.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, reportBench } from '../../../scripts/bench-report';
import { startSensor } from './sensor';
import { kernelSkipReason, waitFor } from './testing/kernel';
import { buildReader, timed } from './testing/workloads';

const BURST = 1_000_000;
const RUNS = 3;
// 1M pt_io records are 48 MB; 64 MiB holds a whole burst even if JS falls behind.
const RING_BYTES = 64 << 20;

const skip = kernelSkipReason();
if (skip) {
  console.error(`throughput bench skipped: ${skip}`);
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'proctrail-burst-'));
const target = join(dir, 'watched');
writeFileSync(target, 'x');
const reader = await buildReader(target, BURST);

async function burst(): Promise<{ rate: number; lost: number; decodeErrors: number }> {
  const sensor = await startSensor({
    ringBufferBytes: RING_BYTES,
    watchedPaths: [target],
    hooks: { network: false },
  });
  let reads = 0;
  let lastAt = 0n;
  sensor.on('batch', (batch) => {
    for (const r of batch) if (r.kind === 'read') reads++;
    lastAt = process.hrtime.bigint();
  });
  try {
    const started = process.hrtime.bigint();
    await timed(reader, []);
    await waitFor(() => reads >= BURST || sensor.counters().lost > 0, 'the burst', 60_000);
    await sensor.settle(200);
    const { lost, decodeErrors } = sensor.counters();
    return { rate: reads / (Number(lastAt - started) / 1e9), lost, decodeErrors };
  } finally {
    sensor.stop();
  }
}

try {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await burst());
  const rate = median(runs.map((r) => r.rate));
  const lost = Math.max(...runs.map((r) => r.lost));
  reportBench({
    name: 'read records decoded per second (1M burst)',
    value: Math.round(rate),
    unit: 'records/s',
    goal: '>= 500000',
    met: rate >= 500_000,
    detail: `median of ${RUNS} bursts of ${BURST} preads; ring ${RING_BYTES >> 20} MiB; rates ${runs.map((r) => Math.round(r.rate)).join(', ')}`,
  });
  reportBench({
    name: 'records lost in a 1M burst',
    value: lost,
    unit: 'records',
    goal: '0',
    met: lost === 0,
    detail: `worst of ${RUNS} bursts; decode errors ${Math.max(...runs.map((r) => r.decodeErrors))}`,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
  rmSync(reader, { force: true });
}
