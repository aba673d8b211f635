import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProcessNode } from '@proctrail/schema';
import { exitDetail, exitLabel } from './labels';

function ended(exit: ProcessNode['exit']): ProcessNode {
  return {
    exec_id: 'x',
    pid: 42,
    binary: '/usr/bin/sleep',
    source: 'agent:test',
    placeholder: false,
    relation: 'fork+exec',
    network: [],
    files: [],
    exit,
  };
}

test('an end the agent did not see reads as ended unseen, never as an exit code or an exec', () => {
  const unseen = ended({
    time: '2026-12-04T12:00:09.000000000Z',
    unseen: true,
    unseenAfter: '2026-12-04T12:00:01.000000000Z',
  });
  assert.equal(exitLabel(unseen), 'ended unseen');
  assert.equal(
    exitDetail(unseen),
    'ended unseen between 2026-12-04T12:00:01.000000000Z and 2026-12-04T12:00:09.000000000Z',
  );
  // Neither a status nor a signal is what "replaced by exec" looks like otherwise.
  assert.equal(exitLabel(ended({ time: '2026-12-04T12:00:09.000000000Z' })), 'replaced by exec');
  assert.equal(exitLabel(ended({ status: 0 })), 'exit 0');
  assert.equal(exitDetail(ended({ status: 1, time: 'T' })), 'exit 1 at T');
});
