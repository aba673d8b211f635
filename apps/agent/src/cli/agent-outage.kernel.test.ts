/**
 * A PostgreSQL outage under a live agent: the server is stopped while processes run, the
 * agent keeps their events in memory and spill files and says so in /healthz, and once the
 * server is back every one of them is written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { ProcessNode } from '@proctrail/schema';
import {
  healthBacklog,
  pollUntil,
  startAgentProcess,
  stopAgentProcess,
  type RunningAgent,
} from '../testing/agent-process';
import { jsonOf, runCli } from '../testing/harness';
import { startTestPostgres, type TestPostgres } from '../testing/postgres';

const skip = kernelSkipReason();
/** How long each wait below may take before the test fails. */
const WAIT_MS = 90_000;
const MARKED = 30;

describe('a PostgreSQL outage under a live agent', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-outage-'));
  let postgres: TestPostgres | undefined;
  let agent: RunningAgent | undefined;
  after(async () => {
    await stopAgentProcess(agent);
    postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('events of the outage wait in memory and spill files, and are all written after it', async () => {
    postgres = await startTestPostgres();
    agent = await startAgentProcess(postgres.url, [
      '--node-name',
      'outage-node',
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
      (b) => b.memoryEvents === 0 && b.storeReachable,
      WAIT_MS,
    );

    postgres.stopServer();
    const marker = `outage-${process.pid}`;
    for (let i = 0; i < MARKED; i++) spawnSync('/bin/true', [`${marker}-${i}`]);
    const waiting = await pollUntil(
      'a backlog',
      () => healthBacklog(url),
      (b) => !b.storeReachable && b.memoryEvents + b.spilledEvents >= MARKED,
      WAIT_MS,
    );
    assert.equal(waiting.memoryEvents, 20, 'memory holds its bound, the rest is spilled');
    assert.ok(waiting.spillBytes > 0);

    postgres.startServer();
    const drained = await pollUntil(
      'the backlog written',
      () => healthBacklog(url),
      (b) => b.storeReachable && b.memoryEvents + b.spilledEvents === 0,
      WAIT_MS,
    );
    assert.equal(drained.droppedFull, 0);
    assert.ok(drained.retries > 0, 'writes were retried during the outage');

    const found = await runCli([
      'search',
      '--store',
      postgres.url,
      '--args',
      marker,
      '--json',
      '--limit',
      '100',
    ]);
    assert.equal(found.code, 0, found.stderr);
    const args = jsonOf<ProcessNode[]>(found).map((p) => p.arguments);
    for (let i = 0; i < MARKED; i++) {
      assert.ok(args.includes(`${marker}-${i}`), `the process of ${marker}-${i} was written`);
    }
  });
});
