import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execIdFor, procfsKtimeNs } from '../exec-id';
import { parseTetragonEvent, parseTetragonJson, type ParsedEvent } from './parse';
import { epochNsToTime, timeToEpochNs, toSortableTime } from './time';

function parsed(value: unknown): ParsedEvent {
  const outcome = parseTetragonEvent(value);
  assert.ok(outcome.ok, outcome.ok ? '' : JSON.stringify(outcome.problem));
  return outcome.parsed;
}

function problem(value: unknown) {
  const outcome = parseTetragonEvent(value);
  assert.equal(outcome.ok, false, 'expected a problem');
  return (outcome as { problem: { field?: string; reason: string } }).problem;
}

describe('64-bit integers', () => {
  test('a cookie beyond 2^53 stays the exact string it was', () => {
    const event = parsed({
      process_kprobe: { args: [{ sock_arg: { cookie: '18446613061298568960' } }] },
    });
    assert.equal(
      (event.body as { args: Array<{ sock_arg: { cookie: string } }> }).args[0]!.sock_arg.cookie,
      '18446613061298568960',
    );
  });

  test('a 64-bit integer written as a JSON number becomes its string', () => {
    const event = parsed({ process_kprobe: { args: [{ size_arg: 65536 }, { long_arg: -5 }] } });
    assert.deepEqual((event.body as { args: unknown[] }).args, [
      { size_arg: '65536' },
      { long_arg: '-5' },
    ]);
  });

  test('a 64-bit integer that is not digits is a problem naming the field', () => {
    assert.deepEqual(
      problem({ process_kprobe: { args: [{ size_arg: '12.5' }] } }).field,
      'process_kprobe.args.0.size_arg',
    );
  });
});

describe('timestamps', () => {
  const cases: Array<[string, string]> = [
    ['2024-07-11T02:53:23Z', '2024-07-11T02:53:23.000000000Z'],
    ['2024-07-11T02:53:23.1Z', '2024-07-11T02:53:23.100000000Z'],
    ['2024-07-11T02:53:23.123Z', '2024-07-11T02:53:23.123000000Z'],
    ['2024-07-11T02:53:23.123456Z', '2024-07-11T02:53:23.123456000Z'],
    ['2024-07-11T02:53:23.265318888Z', '2024-07-11T02:53:23.265318888Z'],
    ['2024-07-11t02:53:23.5z', '2024-07-11T02:53:23.500000000Z'],
    ['2024-07-11t02:53:23.265318888Z', '2024-07-11T02:53:23.265318888Z'],
    ['2024-07-11T04:53:23.000000001+02:00', '2024-07-11T02:53:23.000000001Z'],
    ['2024-01-01T01:00:00.5+02:00', '2023-12-31T23:00:00.500000000Z'],
    ['2023-12-31T18:30:00.25-05:30', '2024-01-01T00:00:00.250000000Z'],
  ];
  for (const [text, sortable] of cases) {
    test(`${text} normalises to ${sortable}`, () => {
      assert.equal(toSortableTime(text), sortable);
    });
  }

  test('sortable times sort in time order across offsets', () => {
    const texts = [
      '2024-01-01T01:00:00.5+02:00',
      '2023-12-31T23:00:00.4Z',
      '2023-12-31T23:00:00.45Z',
    ];
    const sorted = texts.map((t) => toSortableTime(t)!).sort();
    assert.deepEqual(sorted, [
      '2023-12-31T23:00:00.400000000Z',
      '2023-12-31T23:00:00.450000000Z',
      '2023-12-31T23:00:00.500000000Z',
    ]);
  });

  for (const text of [
    '2024-07-11T02:53:23.1234567890Z',
    '2024-07-11T02:53:23',
    '2024-07-11 02:53:23Z',
    'yesterday',
    '2024-13-45T99:99:99Z',
    '2024-02-30T00:00:00Z',
  ]) {
    test(`${JSON.stringify(text)} is not a timestamp`, () => {
      assert.equal(toSortableTime(text), undefined);
      assert.equal(
        problem({ process_exec: { process: { start_time: text } } }).field,
        'process_exec.process.start_time',
      );
    });
  }

  test('epoch nanoseconds go and come back without losing a digit', () => {
    const ns = timeToEpochNs('2024-07-11T02:53:23.265318888Z')!;
    assert.equal(ns, 1720666403265318888n);
    assert.equal(epochNsToTime(ns), '2024-07-11T02:53:23.265318888Z');
  });
});

describe('event shape', () => {
  test('unknown fields are dropped at every level', () => {
    const event = parsed({
      process_exec: { process: { pid: 1, binary: '/bin/sh', colour: 'red' }, extra: 1 },
      node_name: 'n',
      future_envelope_field: true,
    });
    assert.deepEqual(event.event, {
      node_name: 'n',
      process_exec: { process: { pid: 1, binary: '/bin/sh' } },
    });
    assert.equal(event.kind, 'process_exec');
  });

  test('an event has exactly one kind key', () => {
    assert.match(
      problem({ process_exec: {}, process_exit: {} }).reason,
      /more than one event kind/,
    );
    assert.match(problem({ node_name: 'n', time: '2024-07-11T02:53:23Z' }).reason, /no event key/);
    assert.match(problem({ process_teleport: {} }).reason, /found only process_teleport/);
  });

  test('values that are not objects are not events', () => {
    assert.match(problem([{ process_exec: {} }]).reason, /an array/);
    assert.match(problem(42).reason, /number/);
    assert.match(problem(null).reason, /null/);
  });

  test('a field of the wrong type names its dotted path', () => {
    assert.deepEqual(
      problem({ process_exec: { process: { pid: '12' } } }).field,
      'process_exec.process.pid',
    );
    assert.deepEqual(problem({ process_exit: { status: -1 } }).field, 'process_exit.status');
    assert.deepEqual(problem({ process_exec: {}, node_name: 7 }).field, 'node_name');
  });

  test('text that is not JSON says so', () => {
    const outcome = parseTetragonJson('{"process_exec":');
    assert.equal(outcome.ok, false);
    assert.match((outcome as { problem: { reason: string } }).problem.reason, /^not JSON/);
  });
});

describe('exec_id recipe', () => {
  test('exec_ids are base64 of node, ktime and pid, as Tetragon mints them', () => {
    assert.equal(
      execIdFor('minikube', 3349767819535n, 38314),
      'bWluaWt1YmU6MzM0OTc2NzgxOTUzNTozODMxNA==',
    );
    assert.equal(execIdFor('', 13188140450890n, 82023), 'OjEzMTg4MTQwNDUwODkwOjgyMDIz');
  });

  test('a /proc start time in clock ticks becomes ktime in 10 ms steps', () => {
    assert.equal(procfsKtimeNs(65n), 650_000_000n);
    assert.equal(
      execIdFor('b951e7f88447', procfsKtimeNs(65n), 1),
      'Yjk1MWU3Zjg4NDQ3OjY1MDAwMDAwMDox',
    );
  });
});
