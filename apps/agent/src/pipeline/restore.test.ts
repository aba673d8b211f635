import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SnapshotProcess } from '@proctrail/bpf';
import { epochNsToTime, type TetragonProcess } from '@proctrail/schema';
import { BootClock } from '../process/clock';
import { restoredExecutions } from './restore';

const clock = new BootClock();
const MS = 1_000_000n;

/** A process as /proc shows it: its start rounded down to a 10 ms tick. */
function running(pid: number, startNs: bigint): SnapshotProcess {
  const tick = 10n * MS;
  return {
    pid,
    ppid: 1,
    startTicks: Number(startNs / tick),
    startNs: (startNs / tick) * tick,
    binary: '/usr/bin/sleep',
    argv: ['sleep', '60'],
    cwd: '/',
    uid: 0,
    euid: 0,
    gid: 0,
    kernelThread: false,
  } as SnapshotProcess;
}

/** An execution a previous run stored, its start converted by that run's clock offset. */
function stored(pid: number, startNs: bigint, offsetErrorNs: bigint, name: string) {
  return {
    exec_id: name,
    pid,
    binary: '/usr/bin/sleep',
    start_time: epochNsToTime(clock.toEpochNs(startNs) + offsetErrorNs),
  } satisfies TetragonProcess;
}

test('a running process keeps the exec_id stored for it, though the two runs took their clock offsets apart', () => {
  const start = 6_584_588_553_728n;
  for (const offsetError of [0n, -25n * MS, 20n * MS]) {
    const restored = restoredExecutions(
      [running(31085, start)],
      [stored(31085, start, offsetError, 'kept')],
      clock,
    );
    assert.equal(restored.get(31085)?.exec_id, 'kept', `offset error ${offsetError} ns`);
  }
});

test('an earlier process that had the same pid is not taken for the running one', () => {
  const start = 6_584_588_553_728n;
  const restored = restoredExecutions(
    [running(31085, start)],
    [stored(31085, start - 2_000n * MS, 0n, 'older')],
    clock,
  );
  assert.equal(restored.has(31085), false);
});

test('of a pid that exec’d twice, the latest image is the one restored', () => {
  const start = 6_584_588_553_728n;
  const restored = restoredExecutions(
    [running(31085, start)],
    [stored(31085, start, 0n, 'first image'), stored(31085, start + 50n * MS, 0n, 'after exec')],
    clock,
  );
  assert.equal(restored.get(31085)?.exec_id, 'after exec');
});
