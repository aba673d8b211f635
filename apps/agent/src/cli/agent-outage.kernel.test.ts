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
import type { WriteBacklog } from '../pipeline/write-queue';
import { startAgentProcess, type RunningAgent } from '../testing/agent-process';
import { jsonOf, runCli } from '../testing/harness';
import { startTestPostgres, type TestPostgres } from '../testing/postgres';

const skip = kernelSkipReason();
const MARKED = 30;

async function healthBacklog(url: string): Promise<WriteBacklog> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as { backlog?: WriteBacklog };
  assert.ok(health.backlog, 'the agent reports a backlog');
  return health.backlog;
}

async function until<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a PostgreSQL outage under a live agent', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-outage-'));
  let postgres: TestPostgres | undefined;
  let agent: RunningAgent | undefined;
  after(async () => {
    if (agent && agent.child.exitCode === null) {
      const exited = new Promise((resolve) => agent!.child.once('exit', resolve));
      agent.child.kill('SIGTERM');
      await exited;
    }
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
    await until(
      'the start-up snapshot stored',
      () => healthBacklog(url),
      (b) => b.memoryEvents === 0 && b.storeReachable,
    );

    postgres.stopServer();
    const marker = `outage-${process.pid}`;
    for (let i = 0; i < MARKED; i++) spawnSync('/bin/true', [`${marker}-${i}`]);
    const waiting = await until(
      'a backlog',
      () => healthBacklog(url),
      (b) => !b.storeReachable && b.memoryEvents + b.spilledEvents >= MARKED,
    );
    assert.equal(waiting.memoryEvents, 20, 'memory holds its bound, the rest is spilled');
    assert.ok(waiting.spillBytes > 0);

    postgres.startServer();
    const drained = await until(
      'the backlog written',
      () => healthBacklog(url),
      (b) => b.storeReachable && b.memoryEvents + b.spilledEvents === 0,
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
