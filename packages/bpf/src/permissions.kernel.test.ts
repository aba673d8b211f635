import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadNative } from './native';
import { startSensor } from './sensor';
import { kernelSkipReason } from './testing/kernel';

const skip = kernelSkipReason();
const child = fileURLToPath(new URL('./testing/start-sensor-child.ts', import.meta.url));
// tsx is resolved from the working directory: the repository root holds node_modules.
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const NOBODY = 65534;

test(
  'a process without privileges gets an error naming the step, EPERM and what to do, and exits',
  { skip, timeout: 60_000 },
  () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', child], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: repoRoot,
      env: { ...process.env, HOME: '/tmp' },
      encoding: 'utf8',
      timeout: 45_000,
    });

    assert.equal(result.signal, null, `the child was killed: ${result.stderr}`);
    assert.equal(result.status, 0, result.stderr);
    const outcome = JSON.parse(result.stdout.trim().split('\n').pop()!);
    assert.equal(outcome.name, 'SensorError');
    assert.match(outcome.step, /^load/);
    assert.equal(outcome.errno, 1);
    assert.equal(outcome.code, 'EPERM');
    assert.match(outcome.message, /root.*CAP_BPF/);
  },
);

test('a bad option is a TypeError that names it', { skip }, async () => {
  await assert.rejects(startSensor({ ringBufferBytes: 5000 }), {
    name: 'TypeError',
    message: /ringBufferBytes/,
  });
  await assert.rejects(startSensor({ argvLimitBytes: 0 }), {
    name: 'TypeError',
    message: /argvLimitBytes/,
  });
  await assert.rejects(startSensor({ watchedPaths: ['etc/passwd'] }), {
    name: 'RangeError',
    message: /watchedPaths\[0\]/,
  });
  const { SensorHandle } = loadNative();
  assert.throws(() => new SensorHandle(42 as unknown as string, {} as never), {
    name: 'TypeError',
    message: /objectPath/,
  });
});

test('a missing BPF object is an error of the open step with ENOENT', { skip }, async () => {
  await assert.rejects(startSensor({ objectPath: '/nonexistent/proctrail.bpf.o' }), {
    name: 'SensorError',
    step: 'open /nonexistent/proctrail.bpf.o',
    code: 'ENOENT',
  });
});
