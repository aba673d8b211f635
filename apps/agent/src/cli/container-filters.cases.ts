import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execIdFor, type ProcessNode } from '@proctrail/schema';
import { corpusFile, jsonOf, runCli } from '../testing/harness';
import { openStore } from './options';

/**
 * The container and workload filters of search and export over Tetragon's documentation
 * examples: processes of the pods xwing (no controller, its own workload) and test-pod, in
 * several containers, beside host processes (insmod, modprobe). `store` gives the CLI's store
 * arguments (--db FILE or --store URL), once the suite starts.
 */
export function describeContainerFilters(name: string, store: () => string[]): void {
  describe(`container and workload filters (${name})`, () => {
    const binariesOf = async (...filters: string[]): Promise<string[]> => {
      const run = await runCli(['search', ...store(), '--json', ...filters]);
      assert.equal(run.code, 0, run.stderr);
      return jsonOf<ProcessNode[]>(run)
        .map((p) => p.binary ?? '')
        .sort();
    };

    before(async () => {
      const run = await runCli(['import', ...store(), corpusFile('tetragon-docs-examples.jsonl')]);
      assert.equal(run.code, 0, run.stderr);
    });

    test('--container takes a container id, its first digits, or the runtime’s full form', async () => {
      // curl and the bash it replaced (known from curl's event as its parent).
      assert.deepEqual(await binariesOf('--container', '551e161c47d8'), [
        '/bin/bash',
        '/usr/bin/curl',
      ]);
      assert.deepEqual(
        await binariesOf(
          '--container',
          'containerd://551e161c47d8ff0eb665438a7bcd5b4e3ef5a297282b40a92b7c77d6bd168eb3',
        ),
        ['/bin/bash', '/usr/bin/curl'],
      );
      assert.deepEqual(await binariesOf('--container', '0000000000'), []);
    });

    test('--container takes a container name', async () => {
      // Four containers of that name (the pod restarted between the examples), with the
      // parents their events name.
      assert.deepEqual(await binariesOf('--container', 'spaceship'), [
        '/bin/bash',
        '/bin/bash',
        '/bin/bash',
        '/bin/dmesg',
        '/bin/sh',
        '/tmp/su',
        '/usr/bin/curl',
        '/usr/bin/whoami',
      ]);
    });

    test('--workload matches the workload by name; with --namespace they combine', async () => {
      assert.deepEqual(await binariesOf('--workload', 'test-pod'), ['/bin/mount', '/bin/sh']);
      assert.deepEqual(await binariesOf('--workload', 'xwing', '--namespace', 'default'), [
        '/bin/bash',
        '/usr/bin/curl',
      ]);
      assert.deepEqual(await binariesOf('--workload', 'xwing', '--namespace', 'demo-app'), []);
    });

    test('a full id finds a process whose export kept only the docker prefix', async () => {
      const full = 'd0c4e5000d0c4e5000d0c4e5000d0c4e5000d0c4e5000d0c4e5000d0c4e5000a';
      const event = {
        process_exec: {
          process: {
            exec_id: execIdFor('docker-host', 5n, 77),
            pid: 77,
            binary: '/usr/bin/docker-only',
            start_time: '2026-12-04T10:00:00Z',
            docker: full.slice(0, 31),
          },
        },
        node_name: 'docker-host',
        time: '2026-12-04T10:00:00Z',
      };
      const file = join(mkdtempSync(join(tmpdir(), 'proctrail-docker-')), 'docker.jsonl');
      writeFileSync(file, `${JSON.stringify(event)}\n`);
      const run = await runCli(['import', ...store(), '--source', 'docker-host', file]);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(await binariesOf('--container', full), ['/usr/bin/docker-only']);
      assert.deepEqual(await binariesOf('--container', full.slice(0, 12)), [
        '/usr/bin/docker-only',
      ]);
      assert.deepEqual(await binariesOf('--container', `${full.slice(0, 30)}ff`), []);
    });

    test('the store lists the pods by node and namespace for the Overview', async () => {
      const [flag, where] = store();
      const opened = await openStore(flag === '--db' ? { db: where } : { store: where });
      try {
        const all = await opened.stats(5);
        // Node, then namespace, then pod, each with the processes stored of it.
        assert.deepEqual(all.byPod, [
          {
            node: 'gke-john-632-default-pool-7041cac0-9s95',
            namespace: 'default',
            pod: 'xwing',
            processes: 2,
          },
          { node: 'kind-control-plane', namespace: 'default', pod: 'xwing', processes: 6 },
          { node: 'kind-control-plane', namespace: 'demo-app', pod: 'test-pod', processes: 2 },
        ]);
        const none = await opened.stats(5, { since: '2030-01-01T00:00:00Z' });
        assert.deepEqual(none.byPod, [], 'no pod process started in the range');
      } finally {
        await opened.close();
      }
    });

    test('filter values are data: LIKE wildcards in --container match only themselves', async () => {
      assert.deepEqual(await binariesOf('--container', '%'), []);
      assert.deepEqual(await binariesOf('--container', '_'), []);
    });

    test('search prints the container, its name and workload', async () => {
      const run = await runCli(['search', ...store(), '--container', '551e161c47d8']);
      assert.match(run.stdout, /container 551e161c47d8 spaceship \(workload xwing\)/);
    });

    test('export takes the same filters', async () => {
      const run = await runCli([
        'export',
        ...store(),
        '--container',
        'spaceship',
        '--binary',
        'whoami',
      ]);
      assert.equal(run.code, 0, run.stderr);
      const kinds = run.stdout
        .trim()
        .split('\n')
        .map((line) =>
          Object.keys(JSON.parse(line) as object).find((k) => k.startsWith('process_')),
        );
      assert.deepEqual(kinds.sort(), ['process_exec', 'process_exit']);
    });
  });
}
