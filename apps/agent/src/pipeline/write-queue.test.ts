import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { parseTetragonEvent } from '@proctrail/schema';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { IngestItem, SourceInfo } from '../store/types';
import { scratchDir } from '../testing/harness';
import { isPassingStoreError, WriteQueue, type WriteQueueBounds } from './write-queue';

const NODE = 'queue-node';

/** An exec of /bin/true number `n`, a second apart, each its own exec_id. */
function execEvent(n: number): IngestItem {
  const time = new Date(Date.UTC(2026, 11, 4, 10, 0, 0) + n * 1000).toISOString();
  const raw = {
    process_exec: {
      process: {
        exec_id: Buffer.from(`${NODE}:${1_000_000 + n}:${10_000 + n}`).toString('base64'),
        pid: 10_000 + n,
        binary: '/bin/true',
        arguments: `event-${n}`,
        start_time: time,
      },
    },
    node_name: NODE,
    time,
  };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return { parsed: outcome.parsed, raw };
}

function execEvents(from: number, count: number): IngestItem[] {
  return Array.from({ length: count }, (_, i) => execEvent(from + i));
}

async function until(what: string, condition: () => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The arguments of the stored execs, in the order the store assigned their ids. */
function storedArguments(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT raw FROM events ORDER BY id').all() as { raw: string }[];
    return rows.map((row) => JSON.parse(row.raw).process_exec.process.arguments as string);
  } finally {
    db.close();
  }
}

function expectedArguments(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `event-${i}`);
}

describe('WriteQueue over a SQLite store that another connection locks', () => {
  let scratch: ReturnType<typeof scratchDir>;
  let store: SqliteStore;
  let source: SourceInfo;
  let locker: Database.Database;

  beforeEach(async () => {
    scratch = scratchDir();
    store = SqliteStore.open(scratch.db());
    // A locked database answers after the busy timeout; a short one keeps the test quick.
    store.db.pragma('busy_timeout = 50');
    source = await store.source(`agent:${NODE}`, 'agent');
    locker = new Database(scratch.db());
  });

  afterEach(async () => {
    if (locker.inTransaction) locker.exec('ROLLBACK');
    locker.close();
    await store.close();
    scratch.remove();
  });

  function queue(bounds: Partial<WriteQueueBounds> = {}, hooks = {}) {
    return new WriteQueue(store, source, {
      memoryEvents: 1000,
      spillBytes: 10_000_000,
      spillDir: `${scratch.dir}/spill`,
      firstRetryMs: 20,
      maxRetryMs: 100,
      ...bounds,
      ...hooks,
    });
  }

  test('events written while the database is locked are stored once each, in order, after it frees', async () => {
    const writes = queue();
    locker.exec('BEGIN EXCLUSIVE');
    writes.push(execEvents(0, 50));
    // More tries than a refused batch gets: a busy database is waited for, not given up on.
    await until('failed writes', () => writes.backlog().retries >= 8);
    assert.equal(writes.backlog().memoryEvents, 50);
    assert.equal(writes.backlog().storeReachable, false, 'a busy database takes no writes');
    writes.push(execEvents(50, 50));

    locker.exec('COMMIT');
    await until('an empty queue', () => writes.depth === 0);
    await writes.stop();
    assert.deepEqual(storedArguments(scratch.db()), expectedArguments(100));
    assert.equal(writes.backlog().droppedFull, 0);
    assert.equal(writes.backlog().droppedRejected, 0);
  });

  test('past the memory bound events go to spill files, which are replayed in order and removed', async () => {
    const writes = queue({ memoryEvents: 30, segmentEvents: 25 });
    locker.exec('BEGIN EXCLUSIVE');
    writes.push(execEvents(0, 5));
    await until('a failed write', () => writes.backlog().retries >= 1);
    for (let n = 5; n < 100; n += 5) writes.push(execEvents(n, 5));

    const backlog = writes.backlog();
    assert.equal(backlog.memoryEvents, 30);
    assert.equal(backlog.spilledEvents, 70);
    assert.ok(backlog.spillBytes > 0);
    assert.ok(backlog.oldestAgeSeconds >= 0);
    assert.equal(readdirSync(`${scratch.dir}/spill`).length, 3, '70 events in files of 25');

    locker.exec('COMMIT');
    await until('an empty queue', () => writes.depth === 0);
    await writes.stop();
    assert.deepEqual(storedArguments(scratch.db()), expectedArguments(100));
    assert.deepEqual(readdirSync(`${scratch.dir}/spill`), []);
    assert.equal(writes.backlog().spillBytes, 0);
  });

  test('beyond the spill bound the newest events are dropped and counted, the rest stored', async () => {
    const dropped: number[] = [];
    const writes = queue(
      { memoryEvents: 10, spillBytes: 4000 },
      { onDropped: (_reason: string, count: number) => dropped.push(count) },
    );
    locker.exec('BEGIN EXCLUSIVE');
    writes.push(execEvents(0, 5));
    await until('a failed write', () => writes.backlog().retries >= 1);
    for (let n = 5; n < 200; n += 5) writes.push(execEvents(n, 5));

    const backlog = writes.backlog();
    assert.ok(backlog.spillBytes <= 4000);
    assert.ok(backlog.droppedFull > 0, 'some events dropped');
    assert.equal(backlog.memoryEvents + backlog.spilledEvents + backlog.droppedFull, 200);
    assert.equal(
      dropped.reduce((a, b) => a + b, 0),
      backlog.droppedFull,
    );

    locker.exec('COMMIT');
    await until('an empty queue', () => writes.depth === 0);
    await writes.stop();
    const kept = 200 - backlog.droppedFull;
    assert.deepEqual(storedArguments(scratch.db()), expectedArguments(kept));
  });

  test('stop spills what the locked database did not take, and the next queue writes it first', async () => {
    const first = queue({ memoryEvents: 20, segmentEvents: 20 });
    locker.exec('BEGIN EXCLUSIVE');
    first.push(execEvents(0, 30));
    await until('a failed write', () => first.backlog().retries >= 1);
    await first.stop();
    assert.equal(first.backlog().memoryEvents, 0);
    assert.equal(first.backlog().spilledEvents, 30);
    locker.exec('COMMIT');

    const second = queue({ memoryEvents: 20, segmentEvents: 20 });
    assert.equal(second.depth, 30);
    second.push(execEvents(30, 10));
    await until('an empty queue', () => second.depth === 0);
    await second.stop();
    assert.deepEqual(storedArguments(scratch.db()), expectedArguments(40));
  });

  test('a batch the store refuses while it answers reads is dropped after a few tries and counted', async () => {
    const writes = queue({ rejectionsBeforeDrop: 3 });
    // A trigger that fails every insert: the database is up, it just will not take these.
    store.db.exec(
      `CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END`,
    );
    writes.push(execEvents(0, 5));
    await until('the batch dropped', () => writes.backlog().droppedRejected === 5);
    assert.equal(writes.depth, 0);
    assert.equal(writes.backlog().storeReachable, true);

    store.db.exec('DROP TRIGGER refuse');
    writes.push(execEvents(5, 5));
    await until('an empty queue', () => writes.depth === 0);
    await writes.flush();
    await writes.stop();
    assert.deepEqual(storedArguments(scratch.db()), [
      'event-5',
      'event-6',
      'event-7',
      'event-8',
      'event-9',
    ]);
  });
});

test('errors of a store that is away are told from errors about the data', () => {
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
  for (const passing of [
    coded('SQLITE_BUSY'),
    coded('SQLITE_FULL'),
    coded('ECONNREFUSED'),
    coded('57P01', 'terminating connection due to administrator command'),
    coded('08006'),
    new Error('store write failed', { cause: coded('ECONNRESET') }),
    new Error('Connection terminated unexpectedly'),
  ]) {
    assert.equal(isPassingStoreError(passing), true, passing.message);
  }
  for (const refused of [
    coded('SQLITE_CONSTRAINT_TRIGGER'),
    coded('22P05', 'unsupported Unicode escape sequence'),
    coded('23505'),
    new Error('plain'),
  ]) {
    assert.equal(isPassingStoreError(refused), false, refused.message);
  }
});
