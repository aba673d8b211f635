/**
 * Resident memory of a process running the sensor (all hooks, default ring buffer), idle and
 * during a spawn storm whose records it decodes. RSS includes the mapped ring buffer pages the
 * process has touched.
 */
import { readFileSync } from 'node:fs';
import { median, reportBench } from '../../../scripts/bench-report';
import { startSensor } from './sensor';
import { kernelSkipReason } from './testing/kernel';
import { timed } from './testing/workloads';

const STORM = 5000;
const RUNS = 3;
const MB = 1024 * 1024;

const skip = kernelSkipReason();
if (skip) {
  console.error(`memory bench skipped: ${skip}`);
  process.exit(0);
}

/** Resident kB of BPF map mappings (the ring buffer, mapped twice), from /proc/self/smaps. */
function bpfMapRssMb(): number {
  let kb = 0;
  let inMap = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inMap = line.includes('anon_inode:bpf-map');
    else if (inMap && line.startsWith('Rss:')) kb += Number(line.split(/\s+/)[1]);
  }
  return kb / 1024;
}

async function measure(): Promise<{
  idleMb: number;
  peakMb: number;
  ringMb: number;
  records: number;
}> {
  const sensor = await startSensor();
  let records = 0;
  sensor.on('batch', (batch) => (records += batch.length));
  try {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    globalThis.gc?.();
    const idleMb = process.memoryUsage.rss() / MB;
    const ringMb = bpfMapRssMb();
    let peakMb = idleMb;
    const sampler = setInterval(() => {
      peakMb = Math.max(peakMb, process.memoryUsage.rss() / MB);
    }, 20);
    await timed('bash', ['-c', `for ((i = 0; i < ${STORM}; i++)); do /bin/true; done`]);
    await sensor.settle(200);
    clearInterval(sampler);
    peakMb = Math.max(peakMb, process.memoryUsage.rss() / MB);
    return { idleMb, peakMb, ringMb, records };
  } finally {
    sensor.stop();
  }
}

globalThis.gc?.();
const baselineMb = process.memoryUsage.rss() / MB;
const runs = [];
for (let i = 0; i < RUNS; i++) runs.push(await measure());
const idle = median(runs.map((r) => r.idleMb));
const peak = Math.max(...runs.map((r) => r.peakMb));
reportBench({
  name: 'sensor process RSS, idle',
  value: idle,
  unit: 'MB',
  goal: '< 100',
  met: idle < 100,
  detail: `median of ${RUNS} starts, 1 s after start; of which ring buffer mapping ${runs[0]!.ringMb.toFixed(1)} MB; node + tsx alone ${baselineMb.toFixed(1)} MB`,
});
reportBench({
  name: `sensor process RSS, peak during a ${STORM}-process storm`,
  value: peak,
  unit: 'MB',
  goal: '< 100',
  met: peak < 100,
  detail: `highest of ${RUNS} storms sampled every 20 ms; ${runs.map((r) => r.records).join(', ')} records decoded`,
});
