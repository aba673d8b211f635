import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { SensorRecord } from './records';
import { startSensor } from './sensor';
import { exitOf, kernelSkipReason, waitFor } from './testing/kernel';

const skip = kernelSkipReason();
const STORM = 5000;

test(
  `${STORM} processes spawned as fast as possible: every exec and exit seen, none lost`,
  { skip, timeout: 120_000 },
  async () => {
    const sensor = await startSensor();
    // Count, do not keep: the storm's records are all this test needs.
    const trueExecs = new Set<number>();
    let loopPid = 0;
    const exited = new Set<number>();
    const pending: SensorRecord[] = [];
    sensor.on('batch', (batch) => {
      for (const r of batch) {
        if (r.kind === 'exec' && r.ppid === loopPid && r.binary === '/usr/bin/true') {
          trueExecs.add(r.pid);
        } else if (r.kind === 'exit') pending.push(r);
      }
    });

    try {
      const child = spawn('bash', ['-c', `for ((i = 0; i < ${STORM}; i++)); do /bin/true; done`], {
        stdio: 'ignore',
      });
      loopPid = child.pid!;
      assert.equal(await exitOf(child), 0);
      await waitFor(() => trueExecs.size >= STORM, `${STORM} execs`, 30_000);
      await sensor.settle();
      for (const r of pending) if (trueExecs.has(r.pid)) exited.add(r.pid);

      assert.equal(trueExecs.size, STORM);
      assert.equal(exited.size, STORM);
      const counters = sensor.counters();
      assert.equal(counters.lost, 0);
      assert.equal(counters.decodeErrors, 0);
    } finally {
      sensor.stop();
    }
  },
);
