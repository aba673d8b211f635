import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type TetragonProcess } from '@proctrail/schema';
import type { IngestItem, SourceInfo } from '../types';
import { indexPendingExecutions } from './event-writer';
import { SqliteStore } from './sqlite-store';

/*
 * The trigram index is fed once per batch (migration 0006): new rows wait above a mark until
 * the batch ends. These cases cross that boundary both ways.
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

  test('every execution is in the index after a batch', () => {
    const notIndexed = store.db
      .prepare(
        'SELECT count(*) FROM executions WHERE id > (SELECT up_to FROM executions_text_indexed)',
      )
      .pluck()
      .get();
    assert.equal(notIndexed, 0);
    const indexed = store.db.prepare('SELECT count(*) FROM executions_text_docsize').pluck().get();
    assert.equal(indexed, store.db.prepare('SELECT count(*) FROM executions').pluck().get());
  });

  test('executions loaded in SQL are found once indexPendingExecutions has run', async () => {
    store.db
      .prepare(
        `INSERT INTO executions (source_id, exec_id, binary, arguments, process_json)
         VALUES (?, 'bulk-1', '/usr/bin/perl', 'bulk-loaded --gamma', '{}')`,
      )
      .run(source.id);
    indexPendingExecutions(store.db);
    assert.equal((await store.search({ args: 'bulk-loaded --gamma', limit: 10 })).length, 1);
    const indexed = store.db.prepare('SELECT count(*) FROM executions_text_docsize').pluck().get();
    assert.equal(indexed, store.db.prepare('SELECT count(*) FROM executions').pluck().get());
  });

  test('a deleted execution leaves the index with it', async () => {
    store.db.prepare(`DELETE FROM executions WHERE exec_id = 'bulk-1'`).run();
    assert.equal((await store.search({ args: 'bulk-loaded --gamma', limit: 10 })).length, 0);
    const indexed = store.db.prepare('SELECT count(*) FROM executions_text_docsize').pluck().get();
    assert.equal(indexed, store.db.prepare('SELECT count(*) FROM executions').pluck().get());
  });
});
