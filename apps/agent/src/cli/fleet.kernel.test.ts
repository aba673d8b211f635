/**
 * Two nodes into one store (a SQLite file, then a PostgreSQL server), read through one API: `proctrail agent --node-name live-node`
 * records this host with the real sensor while `proctrail import` loads a Tetragon capture of
 * another node (minikube) into the same database, then `proctrail serve` answers for both.
 * Each node's processes are found by the node filter, their trees hold only their own node's
 * exec_ids, and the same pid on the two nodes stays two processes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { ProcessTreeNode } from '@proctrail/schema';
import { createApiClient, type ApiClient } from '../api/client';
import {
  cliPath,
  repoRoot,
  runCliProcess,
  startAgentProcess,
  storeArgs,
  type RunningAgent,
} from '../testing/agent-process';
import { corpusFile } from '../testing/harness';
import { startTestPostgres, type TestPostgres } from '../testing/postgres';

const skip = kernelSkipReason();
const LIVE_NODE = 'live-node';
const IMPORTED_NODE = 'minikube';

/** `proctrail serve` on the database; resolves with its URL from the 'serving' log line. */
async function startServe(db: string): Promise<RunningAgent> {
  const args = [cliPath, 'serve', ...storeArgs(db), '--listen', '127.0.0.1:0'];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PROCTRAIL_LOG_LEVEL: 'info' },
  });
  const lines = createInterface({ input: child.stderr! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not start in 30 s')), 30_000);
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg !== 'serving') return;
      clearTimeout(timer);
      resolve(entry.url!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { child, url };
}

async function stopChild(running: RunningAgent | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

function execIdsOf(nodes: ProcessTreeNode[]): string[] {
  return nodes.flatMap((node) => [node.exec_id, ...execIdsOf(node.children)]);
}

/** The node name an exec_id was minted on (Tetragon's recipe: base64 of node:ktime:pid). */
function nodeOf(execId: string): string {
  return Buffer.from(execId, 'base64').toString('utf8').split(':')[0]!;
}

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe(`two nodes in one ${storeKind} store, through one API`, { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'proctrail-fleet-'));
    let db = join(dir, 'fleet.db');
    const marker = `fleet-${storeKind}-${process.pid}`;
    let postgres: TestPostgres | undefined;
    let agent: RunningAgent | undefined;
    let serve: RunningAgent | undefined;
    let api: ApiClient | undefined;

    before(async () => {
      if (storeKind === 'postgres') {
        postgres = await startTestPostgres();
        db = postgres.url;
      }
      agent = await startAgentProcess(db, [
        '--node-name',
        LIVE_NODE,
        '--spill-dir',
        join(dir, 'spill'),
        '--no-detections',
      ]);
      // A shell that runs a marked child: a small tree of the live node.
      const shell = spawnSync('/bin/sh', ['-c', `/bin/true ${marker}; exit 0`]);
      assert.equal(shell.status, 0);

      // The other node's capture goes into the same database while the agent writes to it.
      const imported = await runCliProcess([
        'import',
        ...storeArgs(db),
        '--no-detections',
        corpusFile('book-process-lifecycle.jsonl'),
      ]);
      assert.equal(imported.code, 0, imported.stderr);

      const agentApi = createApiClient({ url: agent.url });
      try {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const found = await agentApi.trpc.process.search.query({ args: marker, limit: 5 });
          if (found.items.length > 0) break;
          if (Date.now() > deadline) throw new Error('the marked process was not stored');
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await agentApi.close();
      }
      await stopChild(agent);
      serve = await startServe(db);
      api = createApiClient({ url: serve.url });
    });

    after(async () => {
      await api?.close();
      await stopChild(serve);
      await stopChild(agent);
      postgres?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the node filter finds each node’s processes and only those', async () => {
      const live = await api!.trpc.process.search.query({ node: LIVE_NODE, limit: 500 });
      const imported = await api!.trpc.process.search.query({ node: IMPORTED_NODE, limit: 500 });
      assert.ok(live.items.length > 0 && imported.items.length > 0);
      for (const p of live.items) assert.equal(nodeOf(p.exec_id), LIVE_NODE, p.exec_id);
      for (const p of imported.items) assert.equal(nodeOf(p.exec_id), IMPORTED_NODE, p.exec_id);
      assert.ok(live.items.some((p) => p.arguments?.includes(marker)));
      assert.ok(imported.items.some((p) => p.binary === '/usr/bin/nc'));
      assert.equal(
        (await api!.trpc.process.search.query({ node: LIVE_NODE, binary: '/usr/bin/nc' })).items
          .length,
        0,
        'the capture’s nc is not on the live node',
      );
    });

    test('each tree holds only its own node’s exec_ids', async () => {
      const [marked] = (await api!.trpc.process.search.query({ args: marker, limit: 1 })).items;
      const [nc] = (
        await api!.trpc.process.search.query({ node: IMPORTED_NODE, binary: '/usr/bin/nc' })
      ).items;
      for (const [start, node] of [
        [marked!, LIVE_NODE],
        [nc!, IMPORTED_NODE],
      ] as const) {
        const tree = await api!.trpc.process.tree.query({ execId: start.exec_id });
        const ids = [
          ...tree.ancestors.map((a) => a.exec_id),
          tree.process.exec_id,
          ...execIdsOf(tree.children),
        ];
        assert.ok(ids.length >= 2, `${node}: a process and its parent at least`);
        for (const id of ids) assert.equal(nodeOf(id), node, `${node}'s tree holds ${id}`);
      }
    });

    test('the Overview’s stats list both nodes with their last event', async () => {
      const stats = await api!.trpc.stats.summary.query({});
      const nodes = new Map(stats.byNode.map((n) => [n.node, n]));
      assert.ok(nodes.get(LIVE_NODE)!.events > 0);
      assert.equal(nodes.get(IMPORTED_NODE)!.events, 9);
      assert.match(nodes.get(IMPORTED_NODE)!.lastEventTime!, /^2022-02-01T18:01:57/);
      assert.ok(nodes.get(LIVE_NODE)!.eventsPerMinute > 0);
    });
  });
}
