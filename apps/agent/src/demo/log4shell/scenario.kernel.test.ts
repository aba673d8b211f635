import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { Detection, ProcessTree, ProcessTreeNode } from '@proctrail/schema';
import { createApiClient, type ApiClient } from '../../api/client';
import type { RecordedStory } from '../../cli/demo-command';
import {
  cliPath,
  collect,
  repoRoot,
  runCliProcess,
  startAgentProcess,
  type RunningAgent,
} from '../../testing/agent-process';
import { scratchDir } from '../../testing/harness';
import { descendantsOf, isAlive, type ProcessIdentity } from './process-group';
import { PLANTED_SECRET, type ScenarioResult } from './scenario';

const skip = kernelSkipReason();
const scratch = scratchDir();

function* walk(nodes: ProcessTreeNode[]): Generator<ProcessTreeNode> {
  for (const node of nodes) {
    yield node;
    yield* walk(node.children);
  }
}

function only<T>(items: T[], what: string): T {
  assert.equal(items.length, 1, `exactly one ${what}, found ${items.length}`);
  return items[0]!;
}

const childrenOf = (node: ProcessTreeNode, binary: string) =>
  node.children.filter((child) => child.binary?.endsWith(`/${binary}`));

describe('the Log4Shell scenario on the real kernel', { skip, timeout: 180_000 }, () => {
  const db = scratch.db('log4shell.db');
  let agent: RunningAgent;
  let client: ApiClient;
  before(async () => {
    agent = await startAgentProcess(db);
    client = createApiClient({ url: agent.url });
  });
  after(async () => {
    await client?.close();
    agent?.child.kill('SIGTERM');
    scratch.remove();
  });

  test('the agent records the whole story, and the API answers with it', async () => {
    const run = await runCliProcess(['demo', 'log4shell', '--api', agent.url, '--json']);
    assert.equal(run.code, 0, `demo failed:\n${run.stderr}`);
    const printed = JSON.parse(run.stdout) as RecordedStory & { scenario: ScenarioResult };
    const { scenario } = printed;
    assert.deepEqual(scenario.leftRunning, []);
    assert.ok(scenario.session.closedByShell, 'the shell exited on `exit`');
    // The commands really ran in the shell the listener got.
    assert.match(scenario.session.transcript, /uid=\d+\(/, 'id answered');
    assert.ok(scenario.session.transcript.includes(PLANTED_SECRET.value), 'env showed the secret');
    assert.match(scenario.session.transcript, /^root:x:0:0:/m, 'cat printed /etc/passwd');

    // What the API says, asked afresh rather than taken from the demo's output.
    const tree: ProcessTree = await client.trpc.process.tree.query({
      execId: printed.javaExecId,
      source: printed.source,
    });
    const java = tree.process;
    assert.equal(java.pid, scenario.javaPid);
    assert.match(java.binary ?? '', /\/java$/);
    assert.equal(java.exit?.status, 143, 'java ended by the SIGTERM that stopped the service');
    const lookup = java.network.find(
      (edge) => edge.type === 'connect' && edge.dport === scenario.directoryPort,
    );
    assert.ok(lookup, `java connected to the directory stand-in: ${JSON.stringify(java.network)}`);
    assert.match(lookup.daddr ?? '', /127\.0\.0\.1$/);
    assert.ok(
      java.network.some((e) => e.type === 'accept' && e.sport === scenario.servicePort),
      'java accepted the request carrying the exploit',
    );

    const javaNode: ProcessTreeNode = { ...java, children: tree.children, omittedChildren: 0 };
    const payloadShell = only(
      childrenOf(javaNode, 'bash').filter((n) => n.relation === 'fork+exec'),
      'bash started by java',
    );
    assert.equal(payloadShell.arguments, `-c "${scenario.payload}"`);
    assert.equal(payloadShell.exit?.status, 0);

    const reverseShell = only(
      childrenOf(payloadShell, 'bash').filter((n) => n.arguments === '-i'),
      'bash -i under the payload shell',
    );
    assert.equal(reverseShell.exit?.status, 0);
    const stdio = reverseShell.stdio_sockets ?? [];
    assert.deepEqual(
      stdio.map((s) => [s.fd, s.peer_port]),
      [0, 1, 2].map((fd) => [fd, scenario.shellPort]),
      'bash -i reads and writes the connection to the listener',
    );
    // bash opens /dev/tcp in the forked child, before it execs bash -i (Tetragon attributes
    // that connect to the fork's exec_id too): the connect is on that pid, under bash -c.
    const connectToListener = [...walk(payloadShell.children)].filter(
      (node) =>
        node.pid === reverseShell.pid &&
        node.network.some((e) => e.type === 'connect' && e.dport === scenario.shellPort),
    );
    assert.equal(connectToListener.length, 1, 'the reverse shell connection is recorded');

    const commands = reverseShell.children;
    assert.deepEqual(
      commands.map((c) => [c.binary?.split('/').pop(), c.arguments ?? '', c.exit?.status]),
      [
        ['id', '', 0],
        ['env', '', 0],
        ['cat', '/etc/passwd', 0],
      ],
    );
    const cat = commands[2]!;
    assert.ok(
      cat.files.some((f) => f.path === '/etc/passwd' && f.operation === 'read' && f.bytes! > 0),
      `cat read /etc/passwd: ${JSON.stringify(cat.files)}`,
    );
    // What cat sent back over the reverse shell: the file's bytes went to the attacker.
    assert.ok(cat.network.some((e) => e.dport === scenario.shellPort && (e.bytesSent ?? 0) > 0));

    const detections = async (execId: string): Promise<Detection[]> =>
      await client.trpc.detection.list.query({ execId });
    const expectDetection = async (execId: string, rule: string, pattern: RegExp) => {
      const found = (await detections(execId)).find((d) => d.rule === rule);
      assert.ok(found, `${rule} on ${execId}`);
      assert.match(found.explanation, pattern);
      assert.ok(found.evidenceEventIds.length > 0, `${rule} has evidence`);
      const evidence = await client.trpc.event.list.query({ execId, limit: 1000 });
      const ids = new Set(evidence.items.map((e) => e.id));
      assert.ok(
        found.evidenceEventIds.every((id) => ids.has(id)),
        `${rule}'s evidence is among the process's events`,
      );
      return found;
    };
    await expectDetection(
      payloadShell.exec_id,
      'shell-under-server-runtime',
      new RegExp(`started by java \\(pid ${scenario.javaPid}\\)`),
    );
    const reverse = await expectDetection(
      reverseShell.exec_id,
      'reverse-shell',
      new RegExp(`fd 0 -> 127\\.0\\.0\\.1:${scenario.shellPort}`),
    );
    assert.equal(reverse.severity, 'critical');
    await expectDetection(cat.exec_id, 'account-file-read-from-shell', /read \/etc\/passwd/);
    const reported = new Set(printed.detections.map((d) => `${d.rule} ${d.execId}`));
    assert.ok(reported.has(`reverse-shell ${reverseShell.exec_id}`), 'the demo printed them');

    // A Tetragon user's query on the export: bash whose parent is java.
    const exported = await runCliProcess(['export', '--db', db, '--binary', 'bash']);
    assert.equal(exported.code, 0, exported.stderr);
    const bashUnderJava = exported.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { process_exec?: Record<string, { binary?: string }> })
      .filter(
        (event) =>
          event.process_exec?.process?.binary?.endsWith('/bash') &&
          event.process_exec.parent?.binary?.endsWith('/java'),
      );
    assert.equal(bashUnderJava.length, 1, 'one exec of bash with java as its parent');
  });

  test('an interrupted scenario stops every process it started', async () => {
    const demo = spawn(process.execPath, [cliPath, 'demo', 'log4shell', '--api', agent.url], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let javaPid: number | undefined;
    let started: ProcessIdentity[] = [];
    const lines = createInterface({ input: demo.stdout! });
    lines.on('line', (line) => {
      javaPid ??= Number(/^java service started: pid (\d+)/.exec(line)?.[1]) || undefined;
      if (/^reverse shell connected/.test(line) && javaPid) {
        // The shell is running now: note everything below java, then interrupt.
        started = [{ pid: javaPid, startTicks: '' }, ...descendantsOf(javaPid).filter(Boolean)];
        demo.kill('SIGINT');
      }
    });
    const run = await collect(demo, 60_000);
    assert.equal(run.code, 130, `interrupted demo exits with 130:\n${run.stderr}`);
    assert.ok(javaPid, 'java was started');
    assert.ok(started.length >= 2, 'the payload shells were running when interrupted');
    const stillRunning = started.filter(isAlive);
    assert.deepEqual(stillRunning, [], 'no descendant of java runs on');
    assert.throws(() => process.kill(javaPid!, 0), /ESRCH/, 'java is gone');
  });
});
