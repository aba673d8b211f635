import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiEvent } from '@proctrail/schema';
import {
  ENFORCEMENT_TAG,
  enforcementOf,
  enforcementsByExecId,
  enforcementsTooltip,
  enforcingPolicies,
  strongestOutcome,
} from './enforcements';

function kprobe(id: number, execId: string, body: Record<string, unknown>): ApiEvent {
  return {
    id,
    kind: 'process_kprobe',
    time: '2024-05-01T10:00:00.000000000Z',
    execId,
    nodeName: 'test',
    event: { process_kprobe: body } as unknown as ApiEvent['event'],
  };
}

const killed = (id: number, execId: string, policy = 'kill-shells') =>
  kprobe(id, execId, {
    function_name: 'sched_process_exec',
    action: 'KPROBE_ACTION_SIGKILL',
    policy_name: policy,
    message: `killed /bin/bash at exec (policy ${policy})`,
    tags: [ENFORCEMENT_TAG, 'blocked'],
  });

describe('enforcements for drawing', () => {
  test('an enforcement event is read with its policy, action and outcome', () => {
    assert.deepEqual(enforcementOf(killed(7, 'bash')), {
      id: 7,
      execId: 'bash',
      time: '2024-05-01T10:00:00.000000000Z',
      policy: 'kill-shells',
      action: 'KPROBE_ACTION_SIGKILL',
      hook: 'sched_process_exec',
      outcome: 'blocked',
      message: 'killed /bin/bash at exec (policy kill-shells)',
    });
  });

  test('other kprobe events are not enforcements', () => {
    const plain = kprobe(1, 'cat', { function_name: 'security_file_open', policy_name: 'files' });
    assert.equal(enforcementOf(plain), undefined);
    const otherTags = kprobe(2, 'cat', { policy_name: 'files', tags: ['observability'] });
    assert.equal(enforcementOf(otherTags), undefined);
    const exec = { ...killed(3, 'x'), kind: 'process_exec', event: { process_exec: {} } };
    assert.equal(enforcementOf(exec as ApiEvent), undefined);
  });

  test('grouped by process in store order, each event once; blocked outranks a dry run', () => {
    const dry = kprobe(5, 'java', {
      action: 'KPROBE_ACTION_POST',
      policy_name: 'egress',
      message: 'dry run: would have refused a connect to 10.1.2.3:389',
      tags: [ENFORCEMENT_TAG, 'dry-run'],
    });
    const refused = kprobe(4, 'java', {
      action: 'KPROBE_ACTION_OVERRIDE',
      policy_name: 'allow-list',
      message: 'refused a connect to 127.0.0.1:1389',
      tags: [ENFORCEMENT_TAG, 'blocked'],
    });
    const byExecId = enforcementsByExecId([dry, refused, killed(9, 'bash'), refused]);
    const java = byExecId.get('java')!;
    assert.deepEqual(
      java.map((e) => e.id),
      [4, 5],
    );
    assert.equal(strongestOutcome(java), 'blocked');
    assert.equal(strongestOutcome(java.slice(1)), 'dry-run');
    assert.equal(strongestOutcome([]), undefined);
    assert.deepEqual(enforcingPolicies(java), ['allow-list', 'egress']);
    assert.equal(
      enforcementsTooltip(java),
      'blocked by allow-list: refused a connect to 127.0.0.1:1389\n' +
        'dry run of egress: dry run: would have refused a connect to 10.1.2.3:389',
    );
    assert.deepEqual(
      byExecId.get('bash')!.map((e) => e.policy),
      ['kill-shells'],
    );
  });

  test('a policy name that looks like markup stays text', () => {
    const hostile = killed(1, 'sh', '<img src=x onerror=alert(1)>');
    assert.equal(enforcementOf(hostile)?.policy, '<img src=x onerror=alert(1)>');
  });
});
