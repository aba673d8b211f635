import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type TetragonProcess } from '@proctrail/schema';
import type { IngestItem, SourceInfo } from '../types';
import { SqliteStore } from './sqlite-store';

/*
 * The trigram index is fed once per batch (migration 0003): rows wait in a pending table
 * until the batch ends. These cases cross that boundary both ways.
 */

const NODE = 'host-a';
const time = '2026-03-01T10:00:00.000000000Z';

function proc(pid: number, args: string): TetragonProcess {
  return {
    exec_id: execIdFor(NODE, BigInt(pid) * 1_000_000n, pid),
    pid,
    binary: '/usr/bin/python3',
    arguments: args,
    flags: 'execve clone',
    start_time: time,
  };
}

function item(body: Record<string, unknown>): IngestItem {
  const raw = { ...body, node_name: NODE, time };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok);
  return { parsed: outcome.parsed, raw };
}

/** A child's exec naming `parent` by its process object, which has only the old arguments. */
function childOf(parent: TetragonProcess, pid: number): IngestItem {
  const child = { ...proc(pid, 'child'), parent_exec_id: parent.exec_id };
  return item({ process_exec: { process: child, parent } });
}

function execOf(process: TetragonProcess): IngestItem {
  return item({ process_exec: { process } });
}

describe('the trigram index across batches', () => {
  let store: SqliteStore;
  let source: SourceInfo;
  const found = async (args: string) =>
    (await store.search({ args, limit: 10 })).map((n) => n.pid).sort();

  before(async () => {
    store = SqliteStore.open(':memory:');
    source = await store.source('test', 'import');
  });
  after(() => store.close());

  test('a process named as a parent, then exec-ed in the same batch, is found by its exec', async () => {
    const before = proc(200, 'old-args --alpha');
    await store.write(source, [childOf(before, 201), execOf(proc(200, 'new-args --alpha'))]);
    assert.deepEqual(await found('new-args --alpha'), [200]);
    assert.deepEqual(await found('old-args --alpha'), []);
  });

  test('a process indexed in one batch and exec-ed in a later one is found by its exec only', async () => {
    await store.write(source, [childOf(proc(300, 'old-args --beta'), 301)]);
    assert.deepEqual(await found('old-args --beta'), [300]);
    await store.write(source, [execOf(proc(300, 'new-args --beta'))]);
    assert.deepEqual(await found('new-args --beta'), [300]);
    assert.deepEqual(await found('old-args --beta'), []);
  });

  test('nothing is left pending after a batch', () => {
    const pending = store.db.prepare('SELECT count(*) FROM executions_text_pending').pluck().get();
    assert.equal(pending, 0);
  });
});
