import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecRecord, FileIdentity, LoadRecord, SensorRecord } from './records';
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

/** What stat(2) says of a path, in the fields a record's identity has. */
function statIdentity(path: string): FileIdentity {
  const stats = statSync(path, { bigint: true });
  return { device: stats.dev, inode: stats.ino, mtimeNs: stats.mtimeNs, size: stats.size };
}

test(
  "exec and load records carry their file's identity as stat(2) gives it",
  { skip, timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proctrail-identity-'));
    const library = join(dir, 'libidentity.so');
    writeFileSync(library, 'seventeen bytes!\n');
    // A modification time with a fraction of a second: the nanoseconds must come through too.
    utimesSync(library, 1_700_000_000.25, 1_700_000_000.25);
    const sensor = await startSensor({ hooks: { network: false, files: false } });
    const records = collect(sensor);

    try {
      const child = spawn('cat', [library], { stdio: 'ignore' });
      await exitOf(child);
      await waitFor(
        () => records.some((r) => r.kind === 'exit' && r.pid === child.pid),
        'the exit of cat',
      );
      await sensor.settle();

      const load = records.find(
        (r): r is LoadRecord => r.kind === 'load' && r.pid === child.pid && r.path === library,
      );
      assert.ok(load, `a load of ${library}`);
      assert.deepEqual(load.identity, statIdentity(library));
      assert.equal(load.identity?.mtimeNs, 1_700_000_000_250_000_000n);

      const exec = records.find((r): r is ExecRecord => r.kind === 'exec' && r.pid === child.pid);
      assert.ok(exec, 'the exec of cat');
      assert.deepEqual(exec.binaryIdentity, statIdentity(exec.binary));
    } finally {
      sensor.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
