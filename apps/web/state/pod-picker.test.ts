import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { podChoices } from './pod-picker';

const rows = [
  { node: 'node-a', namespace: 'shop', pod: 'web-1', processes: 4 },
  { node: 'node-a', namespace: 'shop', pod: 'web-2', processes: 1 },
  { node: 'node-a', namespace: 'kube-system', pod: 'coredns-1', processes: 2 },
  { node: 'node-b', namespace: 'shop', pod: 'web-1', processes: 3 },
];

describe('podChoices', () => {
  test('a chosen node narrows the namespaces, a chosen namespace the pods', () => {
    const choices = podChoices(rows, { node: 'node-a', namespace: 'shop' });
    assert.deepEqual(choices.nodes, ['node-a', 'node-b']);
    assert.deepEqual(choices.namespaces, ['kube-system', 'shop']);
    assert.deepEqual(choices.pods, [
      { pod: 'web-1', processes: 4 },
      { pod: 'web-2', processes: 1 },
    ]);
  });

  test('without a node every namespace shows, and a pod on two nodes sums its processes', () => {
    const choices = podChoices(rows, { namespace: 'shop' });
    assert.deepEqual(choices.pods, [
      { pod: 'web-1', processes: 7 },
      { pod: 'web-2', processes: 1 },
    ]);
  });

  test('a choice the list no longer holds narrows nothing', () => {
    const choices = podChoices(rows, { node: 'gone', namespace: 'gone' });
    assert.deepEqual(choices.namespaces, ['kube-system', 'shop']);
    assert.equal(choices.pods.length, 3);
  });
});
