import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { exitOf, kernelSkipReason, waitFor } from '@proctrail/bpf/testing';
import type { ApiEvent, ProcessTreeNode } from '@proctrail/schema';
import { createApiClient } from '../api/client';
import { startAgentProcess } from '../testing/agent-process';

const skip = kernelSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'proctrail-agent-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function descendant(
  node: { children: ProcessTreeNode[] },
  test: (n: ProcessTreeNode) => boolean,
): ProcessTreeNode | undefined {
  for (const child of node.children) {
    if (test(child)) return child;
    const deeper = descendant(child, test);
    if (deeper) return deeper;
  }
  return undefined;
}

describe('proctrail agent', { skip, timeout: 120_000 }, () => {
  test('records a chain that the API then answers for, and streams it live over WebSocket', async () => {
    const listener = createServer((socket) => socket.end('greetings\n'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const agent = await startAgentProcess(join(dir, 'e2e.db'));
    const client = createApiClient({ url: agent.url });
    const marker = `e2e-${process.pid}-${Date.now()}`;
    const live: ApiEvent[] = [];
    let started = false;
    const subscription = client.trpc.event.live.subscribe(
      { args: marker },
      {
        onStarted: () => (started = true),
        onData: (data) => live.push(data.data as ApiEvent),
      },
    );
    try {
      await waitFor(() => started, 'the live subscription to start');
      // A server-like parent (bash) starts a shell that connects to the listener without a
      // fork, and a cat of a watched file.
      const inner = `exec 3<>/dev/tcp/127.0.0.1/${port}; cat <&3 >/dev/null; cat /etc/passwd >/dev/null; : ${marker}`;
      const chain = spawn('bash', ['-c', `bash -c "${inner}"; : ${marker}`], { stdio: 'ignore' });
      assert.equal(await exitOf(chain), 0);
      await waitFor(
        () => live.filter((e) => 'process_exit' in e.event).length >= 2,
        'the live exits of both shells',
      );

      const { items } = await client.trpc.process.search.query({
        args: marker,
        binary: 'bash',
        limit: 10,
      });
      const outer = items.find((p) => p.arguments?.startsWith('-c "bash -c'));
      assert.ok(outer, `the outer bash is found: ${JSON.stringify(items.map((p) => p.arguments))}`);
      const tree = await client.trpc.process.tree.query({ execId: outer.exec_id });
      const shell = descendant(tree, (n) =>
        n.network.some((e) => e.type === 'connect' && e.dport === port),
      );
      assert.ok(shell, 'the inner shell has the connect edge to the listener');
      assert.equal(shell.relation, 'fork+exec');
      const cat = descendant(tree, (n) =>
        n.files.some((f) => f.path === '/etc/passwd' && f.operation === 'read'),
      );
      assert.ok(cat, 'cat has the read edge of /etc/passwd');

      const ancestry = await client.trpc.process.ancestry.query({ execId: outer.exec_id });
      assert.ok(ancestry.ancestors.length >= 2, 'the ancestry reaches above the test runner');
      assert.equal(ancestry.ancestors[0]!.pid, 1, 'it starts at pid 1');

      const kinds = new Set(
        live.map((e) => Object.keys(e.event).find((k) => k.startsWith('process_'))),
      );
      assert.ok(
        kinds.has('process_exec') && kinds.has('process_kprobe'),
        `live kinds: ${[...kinds]}`,
      );
      const ids = live.map((e) => e.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
        'live events arrive in id order',
      );
    } finally {
      subscription.unsubscribe();
      await client.close();
      listener.close();
      agent.child.kill('SIGTERM');
    }
    assert.equal(await exitOf(agent.child), 0, 'SIGTERM stops the agent cleanly');
  });

  test('a SIGKILL during a spawn storm leaves a database that opens cleanly', async () => {
    const db = join(dir, 'killed.db');
    const agent = await startAgentProcess(db);
    const storm = spawn('bash', ['-c', 'for i in $(seq 3000); do /bin/true; done'], {
      stdio: 'ignore',
    });
    await new Promise((resolve) => setTimeout(resolve, 700));
    agent.child.kill('SIGKILL');
    await exitOf(agent.child);
    await exitOf(storm);

    const opened = new Database(db);
    try {
      assert.equal(opened.pragma('integrity_check', { simple: true }), 'ok');
      const events = opened.prepare('SELECT count(*) FROM events').pluck().get() as number;
      assert.ok(events > 0, 'what was written before the kill is there');
    } finally {
      opened.close();
    }
  });
});
