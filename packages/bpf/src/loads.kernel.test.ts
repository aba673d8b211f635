import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadRecord, SensorRecord } from './records';
import { startSensor } from './sensor';
import { collect, exitOf, kernelSkipReason, waitFor } from './testing/kernel';

const skip = kernelSkipReason();

const loadsOf = (records: SensorRecord[], pid: number) =>
  records.filter((r): r is LoadRecord => r.kind === 'load' && r.pid === pid).map((r) => r.path);

test(
  'opens of shared objects and archives are library loads; other files are not',
  { skip, timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proctrail-loads-'));
    for (const name of ['a.jar', 'b.war', 'c.ear', 'd.node', 'libx.so', 'liby.so.1.2', 'z.so.txt'])
      writeFileSync(join(dir, name), 'x');
    writeFileSync(join(dir, 'plain.txt'), 'x');
    copyFileSync(join(dir, 'plain.txt'), join(dir, 'so'));
    const sensor = await startSensor({ hooks: { network: false, files: false } });
    const records = collect(sensor);

    try {
      const names = ['a.jar', 'b.war', 'c.ear', 'd.node', 'libx.so', 'liby.so.1.2', 'z.so.txt'];
      const child = spawn('cat', [...names, 'plain.txt', 'so'], { cwd: dir, stdio: 'ignore' });
      await exitOf(child);
      await waitFor(
        () => records.some((r) => r.kind === 'exit' && r.pid === child.pid),
        'the exit of cat',
      );
      await sensor.settle();

      const loads = loadsOf(records, child.pid!);
      const ours = loads.filter((path) => path.startsWith(dir));
      assert.deepEqual(
        ours,
        ['a.jar', 'b.war', 'c.ear', 'd.node', 'libx.so', 'liby.so.1.2'].map((n) => join(dir, n)),
      );
      // cat itself is dynamically linked: the loader opened libc.
      assert.ok(
        loads.some((path) => /\/libc\.so\.6$/.test(path)),
        `libc among ${JSON.stringify(loads)}`,
      );
    } finally {
      sensor.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'no library loads are recorded when the loads family is off',
  { skip, timeout: 60_000 },
  async () => {
    const sensor = await startSensor({ hooks: { network: false, files: false, loads: false } });
    const records = collect(sensor);

    try {
      execFileSync('true');
      const child = spawn('true', { stdio: 'ignore' });
      await exitOf(child);
      await waitFor(() => records.some((r) => r.kind === 'exit' && r.pid === child.pid), 'exit');
      await sensor.settle();
      assert.equal(records.filter((r) => r.kind === 'load').length, 0);
    } finally {
      sensor.stop();
    }
  },
);
