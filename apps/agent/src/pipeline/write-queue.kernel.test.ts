/**
 * The live pipeline through a store that stops taking writes: the real sensor records
 * processes while another connection holds the SQLite database locked. Everything recorded
 * meanwhile is stored once, in order, after the lock goes; with small bounds, what does not fit
 * is dropped and counted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { kernelSkipReason, waitFor } from '@proctrail/bpf/testing';
import pino from 'pino';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { IngestItem } from '../store/types';
import { Agent } from './agent';

const skip = kernelSkipReason();
const logger = pino({ level: 'warn' });
const dir = mkdtempSync(join(tmpdir(), 'proctrail-queue-kernel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `/bin/true MARKER-i` for i below count, one after another. */
function runMarked(marker: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const run = spawnSync('/bin/true', [`${marker}-${i}`]);
    assert.equal(run.status, 0);
  }
}

/** Counts the execs built (before they are stored) whose arguments carry the marker. */
function markerCounter(marker: string) {
  let seen = 0;
  return {
    seen: () => seen,
    onBuilt(items: readonly IngestItem[]) {
      for (const item of items) {
        const body = item.parsed.event.process_exec;
        if (body?.process?.arguments?.startsWith(`${marker}-`)) seen++;
      }
    },
  };
}

/** The stored execs of /bin/true whose arguments carry the marker, oldest id first. */
function storedMarks(file: string, marker: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare(`SELECT raw FROM events WHERE kind = 'process_exec' AND raw LIKE ? ORDER BY id`)
      .all(`%${marker}-%`) as { raw: string }[];
    return rows
      .map(
        (row) => JSON.parse(row.raw).process_exec.process as { binary: string; arguments: string },
      )
      .filter((p) => p.binary.endsWith('/true'))
      .map((p) => p.arguments);
  } finally {
    db.close();
  }
}

describe('the agent while its database is locked', { skip }, () => {
  let file: string;
  let store: SqliteStore;
  let locker: Database.Database;

  beforeEach(() => {
    file = join(dir, `locked-${Date.now()}.db`);
    store = SqliteStore.open(file);
    store.db.pragma('busy_timeout = 50');
    locker = new Database(file);
  });
  afterEach(async () => {
    if (locker.inTransaction) locker.exec('ROLLBACK');
    locker.close();
    await store.close();
  });

  test('stores every process it saw while locked, once each, in order, when the lock goes', async () => {
    const marker = `locked-${process.pid}`;
    const markers = markerCounter(marker);
    // Generous bounds: other work on this shared host is recorded too, and must not crowd out
    // the test's processes.
    const agent = await Agent.start({
      store,
      logger,
      nodeName: 'queue-kernel',
      inventory: false,
      onBuilt: markers.onBuilt,
      writeQueue: { memoryEvents: 50, spillBytes: 2_000_000_000, spillDir: join(dir, 'spill-a') },
    });
    try {
      await waitFor(() => agent.counters().queueDepth === 0, 'the start-up snapshot stored');
      locker.exec('BEGIN EXCLUSIVE');
      runMarked(marker, 40);
      await waitFor(() => markers.seen() === 40, 'the 40 execs recorded');
      await waitFor(() => (agent.counters().backlog?.retries ?? 0) >= 2, 'failed writes');
      const backlog = agent.counters().backlog!;
      assert.equal(backlog.storeReachable, false);
      assert.ok(
        backlog.spilledEvents > 0,
        `past 50 in memory, spilled: ${JSON.stringify(backlog)}`,
      );
      locker.exec('COMMIT');
      await waitFor(() => agent.counters().backlog?.storeReachable === true, 'the store back');
    } finally {
      await agent.stop();
    }
    const marks = storedMarks(file, marker);
    const expected = Array.from({ length: 40 }, (_, i) => `${marker}-${i}`);
    assert.deepEqual(marks, expected);
    assert.equal(agent.counters().backlog!.droppedFull, 0);
  });

  test('with small bounds, what does not fit is dropped and counted, and the rest stored', async () => {
    const marker = `small-${process.pid}`;
    const markers = markerCounter(marker);
    const agent = await Agent.start({
      store,
      logger,
      nodeName: 'queue-kernel-small',
      inventory: false,
      onBuilt: markers.onBuilt,
      writeQueue: { memoryEvents: 5, spillBytes: 20_000, spillDir: join(dir, 'spill-b') },
    });
    try {
      await waitFor(() => agent.counters().queueDepth === 0, 'the start-up snapshot stored');
      locker.exec('BEGIN EXCLUSIVE');
      runMarked(marker, 60);
      // The lock stays until all 60 were recorded: the outage covers them all.
      await waitFor(() => markers.seen() === 60, 'the 60 execs recorded');
      await waitFor(() => (agent.counters().backlog?.droppedFull ?? 0) > 0, 'counted drops');
      locker.exec('COMMIT');
      await waitFor(() => agent.counters().backlog?.storeReachable === true, 'the store back');
    } finally {
      await agent.stop();
    }
    const backlog = agent.counters().backlog!;
    const marks = storedMarks(file, marker);
    assert.ok(backlog.droppedFull > 0);
    assert.ok(marks.length < 60, `some of the 60 dropped: ${marks.length} stored`);
    // The oldest are kept, the newest dropped: what is stored is a prefix, each once.
    assert.deepEqual(
      marks,
      Array.from({ length: marks.length }, (_, i) => `${marker}-${i}`),
    );
  });
});
