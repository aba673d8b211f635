import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventFiltersSchema, type EventFilters, type TetragonProcess } from '@proctrail/schema';
import { eventMatcher, LiveEvent } from './event-match';

const ID = '551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3';

function execOf(process: TetragonProcess): LiveEvent {
  return new LiveEvent({
    id: 1,
    sourceId: 1,
    kind: 'process_exec',
    time: null,
    execId: process.exec_id ?? null,
    nodeName: 'n',
    json: JSON.stringify({ process_exec: { process }, node_name: 'n' }),
  });
}

const inPod = execOf({
  exec_id: 'a',
  binary: '/bin/sh',
  docker: ID.slice(0, 31),
  pod: {
    namespace: 'shop',
    name: 'web-1',
    workload: 'web',
    container: { id: `containerd://${ID}`, name: 'nginx' },
  },
});
const dockerOnly = execOf({ exec_id: 'b', binary: '/bin/sh', docker: ID });
const host = execOf({ exec_id: 'c', binary: '/bin/sh' });

const matches = (filters: EventFilters) => {
  const match = eventMatcher(eventFiltersSchema.parse(filters));
  return [inPod, dockerOnly, host].map((event) => match(event));
};

describe('live event filters for containers', () => {
  test('--container matches an id prefix, the runtime form, or the container name', () => {
    assert.deepEqual(matches({ container: '551e161c47d8' }), [true, true, false]);
    assert.deepEqual(matches({ container: `containerd://${ID}` }), [true, true, false]);
    assert.deepEqual(matches({ container: 'nginx' }), [true, false, false]);
    assert.deepEqual(matches({ container: 'ffff' }), [false, false, false]);
    // Tetragon's docker field holds the first 31 digits: the full id still finds it.
    const prefixOnly = execOf({ exec_id: 'd', docker: ID.slice(0, 31) });
    assert.equal(eventMatcher(eventFiltersSchema.parse({ container: ID }))(prefixOnly), true);
  });

  test('--workload matches the workload name exactly', () => {
    assert.deepEqual(matches({ workload: 'web' }), [true, false, false]);
    assert.deepEqual(matches({ workload: 'we' }), [false, false, false]);
  });
});
