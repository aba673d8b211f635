import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  execIdFor,
  parseTetragonEvent,
  type InventorySearchResult,
  type TetragonProcess,
} from '@proctrail/schema';
import { jsonOf, runCli, scratchDir } from '../../testing/harness';
import type { StoreTarget } from '../../testing/store-targets';

/*
 * An export with loads as Tetragon writes them (path and base64 build-id only) and as
 * Proctrail writes them (hash, versions, advisories), imported and asked through the CLI.
 */

const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000000000Z`;
const LOG4J = '/srv/app/lib/log4j-core-2.14.1.jar';
const JAR_HASH = 'a'.repeat(64);

function proc(node: string, pid: number, second: number, binary: string): TetragonProcess {
  return {
    exec_id: execIdFor(node, BigInt(second) * 1_000_000_000n, pid),
    pid,
    binary,
    flags: 'execve clone',
    start_time: at(second),
    parent_exec_id: execIdFor(node, 1n, 1),
  };
}

const javaA = {
  ...proc('host-a', 201, 1, '/usr/bin/java'),
  binary_hash: { sha256: 'b'.repeat(64) },
};
const javaB = proc('host-b', 202, 5, '/usr/bin/java');
const curl = proc('host-a', 203, 9, '/usr/bin/curl');

function line(node: string, time: string, body: Record<string, unknown>) {
  return JSON.stringify({ ...body, node_name: node, time });
}

function loader(node: string, process: TetragonProcess, second: number, extra: object) {
  return line(node, at(second), { process_loader: { process, ...extra } });
}

const vulnerableJar = {
  path: LOG4J,
  hash: { sha256: JAR_HASH },
  software: { name: 'log4j-core', version: '2.14.1' },
  advisories: ['CVE-2021-44228'],
};

/** The software inventory asked through the CLI and the store, on the store `target` makes. */
export function inventorySuite(target: () => StoreTarget): void {
  describe('inventory', () => {
    const scratch = scratchDir();
    after(() => scratch.remove());
    let db: string[] = [];

    before(async () => {
      db = await target().create('inventory');
      const file = join(scratch.dir, 'loads.jsonl');
      writeFileSync(
        file,
        [
          line('host-a', at(1), { process_exec: { process: javaA } }),
          loader('host-a', javaA, 2, vulnerableJar),
          loader('host-a', javaA, 3, {
            path: '/usr/lib/libc.so.6',
            buildid: Buffer.from('c0ffee', 'hex').toString('base64'),
          }),
          line('host-b', at(5), { process_exec: { process: javaB } }),
          loader('host-b', javaB, 6, vulnerableJar),
          line('host-b', at(8), { process_exit: { process: javaB, time: at(8) } }),
          line('host-a', at(9), { process_exec: { process: curl } }),
          loader('host-a', curl, 9, { path: '/usr/lib/libc.so.6' }),
        ].join('\n') + '\n',
      );
      const imported = await runCli(['import', ...db, file]);
      assert.equal(imported.code, 0, imported.stderr);
      // The built-in log4j-core rule judges imported loads too: one detection per process.
      assert.match(
        imported.stdout + imported.stderr,
        /detections: 2 \(log4j-core-before-2\.17\.1: 2\)/,
      );
    });

    async function inventory(args: string[]): Promise<InventorySearchResult> {
      const run = await runCli(['inventory', ...db, '--json', ...args]);
      assert.equal(run.code, 0, run.stderr);
      return jsonOf<InventorySearchResult>(run);
    }

    test('is it gone? per file: processes that loaded it, those still running, the last load', async () => {
      const found = await inventory(['--library', 'log4j-core*']);
      assert.equal(found.loads.length, 2);
      assert.deepEqual(found.files, [
        {
          role: 'library',
          path: LOG4J,
          sha256: JAR_HASH,
          name: 'log4j-core',
          version: '2.14.1',
          advisories: ['CVE-2021-44228'],
          nodes: ['host-a', 'host-b'],
          processes: 2,
          runningProcesses: 1,
          lastLoadedAt: at(6),
        },
      ]);
      const running = await inventory(['--library', 'log4j-core*', '--running']);
      assert.deepEqual(
        running.loads.map((l) => [l.pid, l.nodeName, l.running]),
        [[201, 'host-a', true]],
      );
    });

    test('filters: by hash, node, time, vulnerability, and executables by name', async () => {
      assert.equal((await inventory(['--sha256', JAR_HASH.toUpperCase()])).loads.length, 2);
      assert.equal((await inventory(['--library', 'log4j*', '--node', 'host-b'])).loads.length, 1);
      assert.equal((await inventory(['--library', '*.jar', '--since', at(4)])).loads.length, 1);
      assert.deepEqual(
        (await inventory(['--vulnerable'])).loads.map((l) => l.pid).sort(),
        [201, 202],
      );
      const java = await inventory(['--binary', 'java']);
      assert.deepEqual(
        java.loads.map((l) => [l.role, l.sha256]),
        [['executable', 'b'.repeat(64)]],
      );
    });

    test("a Tetragon loader event's base64 build-id is kept as hex; a glob is data in SQL", async () => {
      const libc = await inventory(['--library', 'libc.so.6']);
      assert.equal(libc.loads.length, 2);
      assert.ok(libc.loads.some((l) => l.buildId === 'c0ffee'));
      assert.equal((await inventory(['--library', "x' OR 1=1 --"])).loads.length, 0);
      const bad = await runCli(['inventory', ...db, '--sha256', 'nothex']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--sha256: a SHA-256 is 64 hex digits/);
    });

    test('retention removes library loads stored without an event by their time, and with their execution', async () => {
      const store = await target().open(await target().create('inventory_retention'));
      try {
        const source = await store.source('agent:test', 'agent');
        const running = proc('host-r', 301, 1, '/usr/bin/java');
        const exec = { process_exec: { process: running }, node_name: 'host-r', time: at(1) };
        const parsed = parseTetragonEvent(exec);
        assert.ok(parsed.ok);
        await store.write(source, [{ parsed: parsed.parsed, raw: exec }]);
        const row = (execId: string, second: number, path: string) => ({
          execId,
          nodeName: 'host-r',
          time: at(second),
          role: 'library' as const,
          path,
          sha256: 'c'.repeat(64),
          advisories: [],
        });
        await store.writeSoftwareLoads!(source, [
          row(running.exec_id!, 2, '/lib/old.so'),
          row(running.exec_id!, 30, '/lib/new.so'),
          row('bm8gc3VjaCBwcm9jZXNz', 30, '/lib/orphan.so'),
        ]);
        assert.equal((await store.inventory!({ node: 'host-r', limit: 10 })).loads.length, 3);
        await store.prune({ before: at(10) });
        const after = await store.inventory!({ node: 'host-r', limit: 10 });
        assert.deepEqual(
          after.loads.map((l) => l.path),
          ['/lib/new.so'],
          'the old row went by its time, the orphan with its (never stored) execution',
        );
      } finally {
        await store.close();
      }
    });
  });
}
