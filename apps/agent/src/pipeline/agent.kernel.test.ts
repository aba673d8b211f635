import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exitOf, kernelSkipReason, waitFor } from '@proctrail/bpf/testing';
import pino from 'pino';
import type { ProcessNode, ProcessTreeNode } from '@proctrail/schema';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { Agent } from './agent';

const skip = kernelSkipReason();
const logger = pino({ level: 'warn' });
const dir = mkdtempSync(join(tmpdir(), 'proctrail-agent-'));

after(() => rmSync(dir, { recursive: true, force: true }));

/** A loopback server that greets each client and closes; bounded by the test's life. */
async function greetingServer(): Promise<{
  port: number;
  close: () => void;
  accepted: () => number;
}> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.end('hello from the listener\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => server.close(),
    accepted: () => accepted,
  };
}

function findChild(
  node: { children: ProcessTreeNode[] },
  binary: RegExp,
): ProcessTreeNode | undefined {
  for (const child of node.children) {
    if (binary.test(child.binary ?? '')) return child;
    const deeper = findChild(child, binary);
    if (deeper) return deeper;
  }
  return undefined;
}

describe('the agent on the real kernel', { skip }, () => {
  let store: SqliteStore;
  before(() => {
    store = SqliteStore.open(join(dir, 'chain.db'));
  });
  after(() => store.close());

  test('records a chain with its exec parents, a loopback connection, a watched-file read and exit codes', async () => {
    const listener = await greetingServer();
    const agent = await Agent.start({ store, logger, nodeName: 'kernel-test' });
    try {
      // bash forks an inner bash (dash, Debian's sh, has no /dev/tcp) that opens a TCP
      // connection itself, without a fork, then forks cat on /etc/passwd (a watched file);
      // the outer bash exits 3.
      const marker = `chain-${process.pid}`;
      const script = `bash -c "exec 3<>/dev/tcp/127.0.0.1/${listener.port}; cat <&3 >/dev/null; cat /etc/passwd >/dev/null; : ${marker}"; exit 3`;
      // Spawned, not spawnSync: the listener lives in this process and must keep serving.
      const bash = spawn('bash', ['-c', script], { stdio: 'ignore', timeout: 10_000 });
      assert.equal(await exitOf(bash), 3);
      await waitFor(() => listener.accepted() === 1, 'the connection');
    } finally {
      await agent.stop();
      listener.close();
    }

    const found = await store.search({ binary: 'bash', args: 'chain-', limit: 5 });
    const bash = found.find((p) => p.arguments?.includes('; exit 3'));
    assert.ok(bash, `the outer bash is stored: ${JSON.stringify(found.map((p) => p.arguments))}`);
    assert.equal(bash.exit?.status, 3);
    const tree = await store.tree(agent.source, bash.exec_id);
    assert.ok(tree);
    const sh = findChild(tree, /\/bash$/);
    assert.ok(
      sh,
      `the inner bash is a child: ${JSON.stringify(tree.children.map((c) => c.binary))}`,
    );
    assert.equal(sh.relation, 'fork+exec');
    const connect = sh.network.find((e) => e.type === 'connect');
    assert.ok(connect, `sh connected: ${JSON.stringify(sh.network)}`);
    assert.equal(connect.daddr, '127.0.0.1');
    assert.equal(connect.dport, listener.port);
    const cat = sh.children.find((c) => c.files.some((f) => f.path === '/etc/passwd'));
    assert.ok(
      cat,
      `cat read /etc/passwd: ${JSON.stringify(sh.children.map((c) => [c.binary, c.files]))}`,
    );
    const read = cat.files.find((f) => f.operation === 'read');
    assert.ok(read && (read.bytes ?? 0) > 0, 'the read carries its byte count');
    assert.equal(cat.exit?.status ?? 0, 0);
  });

  test('a process running across an agent restart keeps its exec_id and its exit attaches to it', async () => {
    const first = await Agent.start({ store, logger, nodeName: 'kernel-test' });
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await waitFor(() => sleeper.pid !== undefined, 'the sleeper');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await first.stop();
    }
    const before = await store.search({ pid: sleeper.pid!, binary: 'sleep', limit: 5 });
    assert.equal(before.length, 1, 'one stored execution of the sleeper');
    const execId = before[0]!.exec_id;

    const second = await Agent.start({ store, logger, nodeName: 'kernel-test' });
    try {
      sleeper.kill('SIGTERM');
      await exitOf(sleeper);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await second.stop();
    }
    const afterRestart: ProcessNode[] = await store.search({
      pid: sleeper.pid!,
      binary: 'sleep',
      limit: 5,
    });
    assert.deepEqual(
      afterRestart.map((p) => p.exec_id),
      [execId],
      'still one execution, same exec_id',
    );
    assert.equal(afterRestart[0]!.exit?.signal, 'SIGTERM');
  });
});
