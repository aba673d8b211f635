import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { exitOf, kernelSkipReason } from '@proctrail/bpf/testing';
import { toSortableTime, type ProcessNode } from '@proctrail/schema';
import { createApiClient } from '../api/client';
import { runCliProcess, startAgentProcess } from '../testing/agent-process';

const skip = kernelSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'proctrail-ended-unseen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Asks until `done` answers true; the API is asked, so the check is asynchronous. */
async function waitFor(done: () => Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const now = () => toSortableTime(new Date().toISOString())!;

/** The stored execution of `sleep SECONDS`, as the API answers for it. */
async function sleepOf(url: string, seconds: string): Promise<ProcessNode | undefined> {
  const client = createApiClient({ url });
  try {
    const { items } = await client.trpc.process.search.query({
      binary: 'sleep',
      args: seconds,
      limit: 5,
    });
    return items.find((p) => p.arguments === seconds);
  } finally {
    await client.close();
  }
}

describe('exits missed while the agent was down', { skip, timeout: 120_000 }, () => {
  test('a process that ended while the agent was stopped is marked ended unseen; one still running keeps its exec_id', async () => {
    const db = join(dir, 'restart.db');
    // Distinct arguments, so that the searches find these two and nothing else.
    const goneArgs = `${3000 + (process.pid % 500)}.125`;
    const keptArgs = `${3000 + (process.pid % 500)}.375`;
    const first = await startAgentProcess(db);
    const gone = spawn('sleep', [goneArgs], { stdio: 'ignore' });
    const kept = spawn('sleep', [keptArgs], { stdio: 'ignore' });
    try {
      let goneBefore: ProcessNode | undefined;
      let keptBefore: ProcessNode | undefined;
      await waitFor(async () => {
        goneBefore = await sleepOf(first.url, goneArgs);
        keptBefore = await sleepOf(first.url, keptArgs);
        return goneBefore !== undefined && keptBefore !== undefined;
      }, 'both sleeps to be stored');
      assert.equal(goneBefore!.exit, undefined);

      first.child.kill('SIGTERM');
      assert.equal(await exitOf(first.child), 0, 'SIGTERM stops the agent cleanly');
      const killedAt = now();
      gone.kill('SIGKILL');
      await exitOf(gone);
      const restartedAfter = now();

      const second = await startAgentProcess(db);
      const startedBy = now();
      try {
        const goneAfter = await sleepOf(second.url, goneArgs);
        const keptAfter = await sleepOf(second.url, keptArgs);
        assert.ok(goneAfter && keptAfter);

        // The killed sleep: same execution, ended unseen, no code, bounded by the two runs.
        assert.equal(goneAfter.exec_id, goneBefore!.exec_id);
        assert.equal(goneAfter.exit?.unseen, true, JSON.stringify(goneAfter.exit));
        assert.equal(goneAfter.exit.status, undefined);
        assert.equal(goneAfter.exit.signal, undefined);
        // The real end (the kill) lies between the two bounds.
        assert.ok(
          goneAfter.exit.unseenAfter! <= killedAt,
          `${goneAfter.exit.unseenAfter} is no later than the kill at ${killedAt}`,
        );
        assert.ok(goneAfter.exit.unseenAfter! >= goneBefore!.start_time!);
        assert.ok(
          goneAfter.exit.time! >= restartedAfter && goneAfter.exit.time! <= startedBy,
          `${goneAfter.exit.time} is the second run's start (${restartedAfter} .. ${startedBy})`,
        );

        // The sleep still running: same exec_id, still open.
        assert.equal(keptAfter.exec_id, keptBefore!.exec_id);
        assert.equal(keptAfter.exit, undefined);

        // It is followed on: its exit now is a real one, seen by the second run.
        kept.kill('SIGTERM');
        await exitOf(kept);
        await waitFor(
          async () => (await sleepOf(second.url, keptArgs))?.exit?.signal === 'SIGTERM',
          'the kept sleep to exit with SIGTERM, seen',
        );
        const keptEnded = await sleepOf(second.url, keptArgs);
        assert.equal(keptEnded!.exec_id, keptBefore!.exec_id);
        assert.equal(keptEnded!.exit!.unseen, undefined);
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await exitOf(second.child), 0);
      }

      // The CLI tells it apart from an exit code.
      const tree = await runCliProcess(['tree', goneBefore!.exec_id, '--db', db]);
      assert.equal(tree.code, 0, tree.stderr);
      assert.match(
        tree.stdout,
        /sleep \d+\.125 .*ended unseen between \S+ and \S+ \(no exit code known\)/,
      );
      assert.doesNotMatch(
        tree.stdout.split('\n').find((l) => l.includes('.125'))!,
        /exited/,
      );
    } finally {
      gone.kill('SIGKILL');
      kept.kill('SIGKILL');
    }
  });
});
