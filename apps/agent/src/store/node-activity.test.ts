import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nodeActivity } from './node-activity';

const span = (node: string, events: number, firstTime: string, lastTime: string) => ({
  node,
  events,
  firstTime,
  lastTime,
});

test('a node’s rate is its events over the range asked for, per minute', () => {
  const [node] = nodeActivity([span('a', 50, '2026-12-04T10:01:00Z', '2026-12-04T10:02:00Z')], {
    since: '2026-12-04T10:00:00Z',
    until: '2026-12-04T10:10:00Z',
  });
  assert.deepEqual(node, {
    node: 'a',
    events: 50,
    lastEventTime: '2026-12-04T10:02:00Z',
    eventsPerMinute: 5,
  });
});

test('an open end of the range is the node’s own first or last event', () => {
  const [fromStart, toEnd] = nodeActivity(
    [
      span('a', 30, '2026-12-04T10:00:00Z', '2026-12-04T10:03:00Z'),
      span('b', 30, '2026-12-04T10:02:00Z', '2026-12-04T10:03:00Z'),
    ],
    { since: '2026-12-04T10:00:00Z' },
  );
  assert.equal(fromStart!.eventsPerMinute, 10);
  assert.equal(toEnd!.eventsPerMinute, 10, 'since 10:00 to its last event at 10:03');
  const [alone] = nodeActivity([span('b', 30, '2026-12-04T10:02:00Z', '2026-12-04T10:05:00Z')]);
  assert.equal(alone!.eventsPerMinute, 10);
});

test('a burst shorter than a minute counts as a minute', () => {
  const [node] = nodeActivity([span('a', 7, '2026-12-04T10:00:00Z', '2026-12-04T10:00:01Z')]);
  assert.equal(node!.eventsPerMinute, 7);
});
