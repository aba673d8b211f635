import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTetragonEvent } from '@proctrail/schema';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { IngestItem } from '../store/types';
import { scratchDir } from '../testing/harness';
import { StoreBatcher } from './store-batcher';

function execItem(n: number): IngestItem {
  const raw = {
    node_name: 'batcher-test',
    time: `2026-01-01T00:02:00.${String(n).padStart(9, '0')}Z`,
    process_exec: {
      process: {
        exec_id: Buffer.from(`batcher-test:${n}:${3000 + n}`).toString('base64'),
        pid: 3000 + n,
        binary: '/usr/bin/true',
      },
    },
  };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok);
  return { parsed: outcome.parsed, raw };
}

test('a backlog is written in bounded transactions, in order, with the event loop turning between', async () => {
  const scratch = scratchDir();
  const store = SqliteStore.open(scratch.db());
  try {
    const source = await store.source('agent:batcher-test', 'agent');
    const transactions: number[] = [];
    const storedIds: number[] = [];
    let loopTurnsDuringWrites = 0;
    const batcher = new StoreBatcher(store, source, {
      maxTransactionEvents: 100,
      onWritten: (result, _latency, batch) => {
        transactions.push(batch.length);
        storedIds.push(...result.events.map((event) => event.id));
      },
    });
    // A sensor batch far larger than one transaction, as after a stall.
    batcher.push(Array.from({ length: 1050 }, (_, i) => execItem(i)));
    const ticker = setInterval(() => loopTurnsDuringWrites++, 0);
    await batcher.stop();
    clearInterval(ticker);

    assert.deepEqual(transactions, [...Array<number>(10).fill(100), 50]);
    assert.equal(storedIds.length, 1050);
    assert.deepEqual(
      storedIds,
      [...storedIds].sort((a, b) => a - b),
    );
    assert.equal((await store.counts()).events, 1050);
    // Timers ran between the transactions: a write never held the loop for the whole backlog.
    assert.ok(loopTurnsDuringWrites >= 5, `the loop turned ${loopTurnsDuringWrites} times`);
  } finally {
    await store.close();
    scratch.remove();
  }
});
