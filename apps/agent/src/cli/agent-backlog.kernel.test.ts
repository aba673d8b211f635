/**
 * `proctrail agent` reports its write backlog: while another process holds its SQLite
 * database locked, /healthz and /metrics show events waiting and the store unreachable; once
 * the lock goes, the backlog is written and both say so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import {
  healthBacklog,
  pollUntil,
  startAgentProcess,
  stopAgentProcess,
  type RunningAgent,
} from '../testing/agent-process';

const skip = kernelSkipReason();
/** How long each wait below may take before the test fails. */
const WAIT_MS = 60_000;

/** The value of one sample of the agent's /metrics, such as `proctrail_store_reachable`. */
async function metric(url: string, sample: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `no ${sample} in /metrics`);
  return Number(line.split(' ')[1]);
}

describe('the agent’s backlog in /healthz and /metrics', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-backlog-'));
  let agent: RunningAgent | undefined;
  after(async () => {
    await stopAgentProcess(agent);
    rmSync(dir, { recursive: true, force: true });
  });

  test('shows events waiting while the database is locked, and none once it frees', async () => {
    const db = join(dir, 'agent.db');
    agent = await startAgentProcess(db, [
      '--spill-dir',
      join(dir, 'spill'),
      '--queue-memory-events',
      '20',
      '--no-detections',
    ]);
    const url = agent.url;
    await pollUntil(
      'the start-up snapshot stored',
      () => healthBacklog(url),
      (b) => b.memoryEvents === 0,
      WAIT_MS,
    );

    const locker = new Database(db);
    try {
      locker.exec('BEGIN EXCLUSIVE');
      for (let i = 0; i < 30; i++) spawnSync('/bin/true', [`backlog-${i}`]);
      const waiting = await pollUntil(
        'a backlog',
        () => healthBacklog(url),
        (b) => !b.storeReachable && b.memoryEvents + b.spilledEvents >= 30,
        WAIT_MS,
      );
      assert.equal(waiting.memoryEvents, 20, 'memory holds its bound, the rest is spilled');
      assert.ok(waiting.spillBytes > 0);
      assert.match(waiting.lastError ?? '', /locked/, 'no token is set: the details are shown');
      await pollUntil(
        'the metrics',
        () => metric(url, 'proctrail_store_reachable'),
        (v) => v === 0,
        WAIT_MS,
      );
      await pollUntil(
        'spilled events in the metrics',
        () => metric(url, 'proctrail_store_backlog_events{where="spill"}'),
        (v) => v > 0,
        WAIT_MS,
      );
    } finally {
      if (locker.inTransaction) locker.exec('COMMIT');
      locker.close();
    }

    const drained = await pollUntil(
      'the backlog written',
      () => healthBacklog(url),
      (b) => b.storeReachable && b.memoryEvents + b.spilledEvents === 0,
      WAIT_MS,
    );
    assert.equal(drained.droppedFull, 0);
    await pollUntil(
      'the metrics',
      () => metric(url, 'proctrail_store_reachable'),
      (v) => v === 1,
      WAIT_MS,
    );
    assert.ok((await metric(url, 'proctrail_store_write_retries_total')) > 0);
  });
});
