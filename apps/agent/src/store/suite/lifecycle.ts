import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type TetragonProcess } from '@proctrail/schema';
import type { Finding } from '../../detection/engine';
import type { StoreTarget } from '../../testing/store-targets';
import type { IngestItem, SourceInfo, Store } from '../types';

const NODE = 'life';
const id = (pid: number) => execIdFor(NODE, BigInt(pid) * 1000n, pid);
const at = (day: number, second: number) =>
  `2026-05-0${day}T12:00:${String(second).padStart(2, '0')}.000000000Z`;

function item(raw: Record<string, unknown>): IngestItem {
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok, JSON.stringify(raw));
  return { parsed: outcome.parsed, raw };
}

function proc(pid: number, start: string, parentPid?: number): TetragonProcess {
  return {
    exec_id: id(pid),
    pid,
    binary: `/bin/p${pid}`,
    flags: 'execve clone',
    start_time: start,
    ...(parentPid ? { parent_exec_id: id(parentPid) } : {}),
  };
}

const exec = (p: TetragonProcess, time = p.start_time!) =>
  item({ process_exec: { process: p }, node_name: NODE, time });
const exit = (p: TetragonProcess, time: string) =>
  item({ process_exit: { process: p, status: 0, time }, node_name: NODE, time });

function finding(pid: number, rule: string, time: string, dedupeKey = ''): Finding {
  return {
    rule,
    severity: 'high',
    title: `${rule} title`,
    execId: id(pid),
    pid,
    binary: 'not the stored one',
    nodeName: NODE,
    time,
    ancestors: [],
    evidenceEventIds: [1],
    explanation: `${rule} on ${pid}`,
    dedupeKey,
  };
}

/** What the agent and the API ask of a store beyond search and trees. */
export function lifecycleSuite(target: () => StoreTarget): void {
  describe('store lifecycle: writes, restarts, detections, pages, retention', () => {
    let store: Store;
    let source: SourceInfo;
    const parent = proc(10, at(1, 0));
    const done = proc(11, at(1, 1), 10);
    const running = proc(12, at(2, 2), 10);

    before(async () => {
      store = await target().open(await target().create('lifecycle'));
      source = await store.source('agent:life', 'agent');
    });
    after(() => store.close());

    test('a batch reports what it stored, its duplicates by kind, in order with rising ids', async () => {
      const first = await store.write(source, [exec(parent), exec(done), exit(done, at(1, 5))]);
      assert.equal(first.stored, 3);
      assert.deepEqual(first.byKind, { process_exec: 2, process_exit: 1 });
      const again = await store.write(source, [exec(done), exec(running), exec(running)]);
      assert.equal(again.stored, 1);
      assert.equal(again.duplicates, 2);
      const ids = [...first.events, ...again.events].map((e) => e.id);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => a - b),
      );
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(await store.sourceNamed('agent:life'), source);
      assert.equal((await store.source('agent:life', 'agent')).id, source.id);
    });

    test('running executions are those not exited, oldest first, as their process objects', async () => {
      const pids = (await store.runningExecutions(source)).map((p) => p.pid);
      assert.deepEqual(pids, [10, 12]);
    });

    test('executions found gone at a restart end between the last stored event and the restart', async () => {
      const marked = await store.endUnseen(source, [id(10), id(11), id(99)], at(3, 0));
      assert.equal(marked, 1, 'only the open one of those that exist');
      const tree = (await store.tree(source, id(10)))!;
      assert.deepEqual(tree.process.exit, {
        time: at(3, 0),
        unseen: true,
        unseenAfter: at(2, 2),
      });
      assert.deepEqual(
        (await store.runningExecutions(source)).map((p) => p.pid),
        [12],
      );
    });

    test('event pages follow ids, with kinds and a limit', async () => {
      const all = await store.eventsAfter(0, {}, 100);
      assert.equal(all.length, 4);
      const page = await store.eventsAfter(all[0]!.id, { kinds: ['process_exec'] }, 2);
      assert.deepEqual(
        page.map((e) => e.execId),
        [id(11), id(12)],
      );
      assert.deepEqual(await store.lastEvent(), { id: all[3]!.id, time: all[3]!.time });
      const exported: string[] = [];
      for await (const line of store.exportEvents({ limit: 2 })) exported.push(line);
      assert.deepEqual(
        exported.map((l) => JSON.parse(l).process_exec?.process.pid),
        [10, 11],
      );
    });

    test('detections are stored once per rule, process and key, with the stored process named', async () => {
      const created = await store.saveDetections(source, [
        finding(11, 'rule-a', at(1, 3)),
        finding(11, 'rule-a', at(1, 4)),
        finding(11, 'rule-b', at(1, 4), '10.0.0.1'),
      ]);
      assert.deepEqual(
        created.map((d) => [d.rule, d.binary, d.pid]),
        [
          ['rule-a', '/bin/p11', 11],
          ['rule-b', '/bin/p11', 11],
        ],
      );
      assert.equal(
        (await store.saveDetections(source, [finding(11, 'rule-a', at(1, 9))])).length,
        0,
      );
      const listed = await store.detections({ limit: 10 });
      assert.deepEqual(
        listed.map((d) => d.rule),
        ['rule-b', 'rule-a'],
      );
      const older = await store.detections({
        limit: 10,
        before: { time: listed[0]!.time, id: listed[0]!.id },
      });
      assert.deepEqual(
        older.map((d) => d.rule),
        ['rule-a'],
      );
      assert.deepEqual(
        (await store.processChain(source, id(11), 5)).map((p) => p.pid),
        [11, 10],
      );
    });

    test("retention inside a day keeps that day's later events and the running process", async () => {
      const pruned = await store.prune({ before: at(2, 0) });
      assert.equal(pruned.events, 3);
      assert.equal((await store.counts()).events, 1);
      const stats = await store.stats(5);
      assert.deepEqual(stats.byKind, { process_exec: 1 });
      assert.deepEqual(
        stats.byNode.map((n) => [n.node, n.events, n.lastEventTime]),
        [[NODE, 1, at(2, 2)]],
      );
      // A late event of a day that retention dropped is stored again.
      const late = await store.write(source, [exit(running, at(1, 30))]);
      assert.equal(late.stored, 1);
      assert.equal((await store.runningExecutions(source)).length, 0);
    });
  });

  test('tabs, newlines, carriage returns and backslashes in arguments and paths come back as written', async () => {
    const store = await target().open(await target().create('escapes'));
    try {
      const source = await store.source('escapes', 'import');
      const odd = 'a\tb\nc\rd\\e\\\\N \\N end';
      const process: TetragonProcess = {
        ...proc(14, at(1, 4)),
        binary: `/bin/${odd}`,
        arguments: odd,
        cwd: `/srv/${odd}`,
      };
      const read = item({
        process_kprobe: {
          process,
          function_name: 'security_file_permission',
          args: [{ file_arg: { path: `/tmp/${odd}` } }, { int_arg: 4 }],
        },
        node_name: NODE,
        time: at(1, 5),
      });
      assert.equal((await store.write(source, [exec(process), read])).stored, 2);

      const tree = (await store.tree(source, process.exec_id!))!;
      assert.equal(tree.process.binary, `/bin/${odd}`);
      assert.equal(tree.process.arguments, odd);
      assert.equal(tree.process.cwd, `/srv/${odd}`);
      assert.deepEqual(
        tree.process.files.map((f) => f.path),
        [`/tmp/${odd}`],
      );
      const exported: string[] = [];
      for await (const line of store.exportEvents({})) exported.push(line);
      assert.deepEqual(exported, [JSON.stringify(exec(process).raw), JSON.stringify(read.raw)]);
      const found = await store.search({ args: 'b\nc\rd\\e', limit: 10 });
      assert.deepEqual(
        found.map((p) => p.exec_id),
        [process.exec_id],
      );
    } finally {
      await store.close();
    }
  });

  test('an event without a time is a duplicate by its digest alone, in a later batch too', async () => {
    const store = await target().open(await target().create('timeless'));
    try {
      const source = await store.source('timeless', 'import');
      const timeless = item({ process_exec: { process: proc(13, at(1, 3)) }, node_name: NODE });
      assert.equal((await store.write(source, [timeless, timeless])).duplicates, 1);
      assert.equal((await store.write(source, [timeless])).duplicates, 1);
      assert.equal((await store.counts()).events, 1);
    } finally {
      await store.close();
    }
  });
}
