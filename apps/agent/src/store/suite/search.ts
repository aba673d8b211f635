import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execIdFor, type ProcessNode, type TetragonProcess } from '@proctrail/schema';
import { jsonOf, runCli, scratchDir } from '../../testing/harness';
import type { StoreTarget } from '../../testing/store-targets';

/*
 * A small made-up capture whose values carry LIKE and GLOB metacharacters, searched through
 * the CLI the way a user would.
 */

function at(second: number): string {
  return `2026-03-01T10:00:${String(second).padStart(2, '0')}.000000000Z`;
}

function proc(
  node: string,
  pid: number,
  second: number,
  binary: string,
  args: string,
  extra: Partial<TetragonProcess> = {},
): TetragonProcess {
  return {
    exec_id: execIdFor(node, BigInt(second) * 1_000_000_000n, pid),
    pid,
    binary,
    arguments: args,
    flags: 'execve clone',
    start_time: at(second),
    parent_exec_id: execIdFor(node, 1n, 1),
    ...extra,
  };
}

const curl = proc('host-a', 101, 1, '/usr/bin/curl', '-s http://203.0.113.9:8080/x%41_y', {
  pod: { namespace: 'shop', name: 'cart-7d9f' },
});
const sh = proc('host-b', 102, 10, '/bin/sh', "-c 'rm -rf /tmp/[abc]*'", {
  pod: { namespace: 'shop', name: 'pay_1' },
});
const python = proc('host-a', 103, 20, '/usr/bin/python3', '-m http.server 80');
const ls = proc('host-a', 104, 40, '/bin/ls', '-l');
const echo = proc('host-a', 105, 50, '/bin/echo', '\u001b[2Jall clear');

function envelope(node: string, time: string, body: Record<string, unknown>) {
  return { ...body, node_name: node, time };
}

function exec(node: string, process: TetragonProcess) {
  return envelope(node, process.start_time!, { process_exec: { process } });
}

function exit(node: string, process: TetragonProcess, second: number) {
  return envelope(node, at(second), { process_exit: { process, time: at(second) } });
}

function fileEvent(node: string, process: TetragonProcess, path: string, mask: number) {
  return envelope(node, process.start_time!, {
    process_kprobe: {
      process,
      function_name: 'security_file_permission',
      args: [{ file_arg: { path } }, { int_arg: mask }],
    },
  });
}

function connect(node: string, process: TetragonProcess, daddr: string, dport: number) {
  return envelope(node, process.start_time!, {
    process_kprobe: {
      process,
      function_name: 'tcp_connect',
      args: [{ sock_arg: { family: 'AF_INET', saddr: '10.0.0.5', sport: 40000, daddr, dport } }],
    },
  });
}

/** Search through the CLI, as a user would, on the store `target` makes. */
export function searchSuite(target: () => StoreTarget): void {
  describe('search', () => {
    const scratch = scratchDir();
    after(() => scratch.remove());
    let store: string[] = [];

    function writeEvents(dir: string, name: string, events: unknown[]): string {
      const file = join(dir, name);
      writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
      return file;
    }

    before(async () => {
      store = await target().create('search');
      const lab = writeEvents(scratch.dir, 'lab.jsonl', [
        exec('host-a', curl),
        connect('host-a', curl, '203.0.113.9', 8080),
        exit('host-a', curl, 5),
        exec('host-b', sh),
        fileEvent('host-b', sh, '/etc/passwd', 4),
        fileEvent('host-b', sh, '/tmp/[abc]*/f', 2),
        exec('host-a', python),
        fileEvent('host-a', python, '/etc-backup/shadow', 4),
        fileEvent('host-a', python, '/data/100%_done.txt', 2),
        exit('host-a', python, 30),
        exec('host-a', echo),
      ]);
      const other = writeEvents(scratch.dir, 'other.jsonl', [exec('host-a', ls)]);
      for (const [file, source] of [
        [lab, 'lab'],
        [other, 'other'],
      ]) {
        const run = await runCli(['import', file!, ...store, '--source', source!]);
        assert.equal(run.code, 0, run.stderr);
      }
    });

    async function pidsFound(...filters: string[]): Promise<number[]> {
      const run = await runCli(['search', ...store, '--json', ...filters]);
      assert.equal(run.code, 0, run.stderr);
      return jsonOf<ProcessNode[]>(run)
        .map((n) => n.pid!)
        .sort();
    }

    describe('search filters', () => {
      const cases: Array<[string, string[], number[]]> = [
        ['binary substring', ['--binary', 'curl'], [101]],
        ['binary of two characters', ['--binary', 'sh'], [102]],
        ['args substring', ['--args', 'http.server'], [103]],
        ['args of two characters', ['--args', '-l'], [104]],
        ['args of one character', ['--args', 'x'], [101]],
        ['pid', ['--pid', '103'], [103]],
        ['exec-id', ['--exec-id', python.exec_id!], [103]],
        ['node', ['--node', 'host-b'], [102]],
        ['namespace', ['--namespace', 'shop'], [101, 102]],
        ['pod substring', ['--pod', 'cart'], [101]],
        ['ip', ['--ip', '203.0.113.9'], [101]],
        ['source address', ['--ip', '10.0.0.5'], [101]],
        ['port', ['--port', '8080'], [101]],
        ['path prefix', ['--path', '/etc'], [102]],
        ['path prefix of a whole path', ['--path', '/etc/passwd'], [102]],
        ['path substring', ['--path', 'shadow'], [103]],
        ['since', ['--since', '2026-03-01T10:00:06Z'], [102, 103, 104, 105]],
        ['until', ['--until', '2026-03-01T10:00:15Z'], [101, 102]],
        [
          'since and until',
          ['--since', '2026-03-01T10:00:25Z', '--until', '2026-03-01T10:00:45Z'],
          [102, 103, 104],
        ],
        ['since with an offset', ['--since', '2026-03-01T11:00:25+01:00'], [102, 103, 104, 105]],
        ['source', ['--source', 'other'], [104]],
        ['two filters together', ['--node', 'host-a', '--args', 'http'], [101, 103]],
      ];
      for (const [name, filters, pids] of cases) {
        test(`${name} (${filters.join(' ')}) finds the processes it names`, async () => {
          assert.deepEqual(await pidsFound(...filters), pids);
        });
      }

      test('the limit keeps the newest processes', async () => {
        const run = await runCli(['search', ...store, '--json', '--limit', '2']);
        assert.deepEqual(
          jsonOf<ProcessNode[]>(run).map((n) => n.pid),
          [105, 104],
        );
      });
    });

    describe('metacharacters in filter values are taken literally', () => {
      const cases: Array<[string, string[], number[]]> = [
        ['% in args', ['--args', '%'], [101]],
        ['_ in args', ['--args', '_'], [101]],
        ['%41_ in args', ['--args', '%41_'], [101]],
        ["' in args", ['--args', "'rm"], [102]],
        ['* in args', ['--args', '*'], [102]],
        ['[ in args', ['--args', '[abc]'], [102]],
        ['_ in a pod name', ['--pod', '_'], [102]],
        ['% in a path', ['--path', '100%'], [103]],
        ['_ in a path', ['--path', '%_d'], [103]],
        ['[ and * in a path prefix', ['--path', '/tmp/[abc]*'], [102]],
        ['a path prefix ending in a slash', ['--path', '/tmp/[abc]*/'], [102]],
        ['a path prefix cut inside a name', ['--path', '/tmp/[a'], []],
        ["' in a binary", ['--binary', "'"], []],
      ];
      for (const [name, filters, pids] of cases) {
        test(`${name} (${filters.join(' ')})`, async () => {
          assert.deepEqual(await pidsFound(...filters), pids);
        });
      }

      test('a * that would glob everything matches nothing when no path has it', async () => {
        assert.deepEqual(await pidsFound('--path', '/e*'), []);
      });
    });

    describe('text output', () => {
      test('search prints a terminal escape in the arguments escaped', async () => {
        const run = await runCli(['search', ...store, '--pid', '105']);
        assert.equal(run.code, 0);
        assert.ok(!run.stdout.includes('\u001b'), 'no raw ESC');
        assert.match(run.stdout, /\/bin\/echo \\x1b\[2Jall clear/);
      });

      test('tree prints a terminal escape in the arguments escaped', async () => {
        const run = await runCli(['tree', echo.exec_id!, ...store]);
        assert.equal(run.code, 0, run.stderr);
        assert.ok(!run.stdout.includes('\u001b'), 'no raw ESC');
        assert.match(run.stdout, /\/bin\/echo \\x1b\[2Jall clear/);
      });
    });
  });
}
