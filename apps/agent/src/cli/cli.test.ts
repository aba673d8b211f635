import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { corpusFile, runCli, scratchDir } from '../testing/harness';

const scratch = scratchDir();
after(() => scratch.remove());

/** Every C0 and C1 control character except the newlines between output lines. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('text output of crafted events', () => {
  const db = scratch.db('crafted.db');
  const esc = '\u001b]0;owned\u0007\u001b[2J';
  const execId = `evil${esc}`;
  const parentId = `parent${esc}`;

  before(async () => {
    const process = {
      exec_id: execId,
      pid: 4242,
      binary: `/tmp/${esc}x`,
      arguments: `-c ${esc}`,
      flags: 'execve clone',
      start_time: '2026-03-01T10:00:00Z',
      parent_exec_id: parentId,
      pod: { namespace: `ns${esc}`, name: `pod${esc}` },
    };
    const events = [
      { process_exec: { process }, node_name: `node${esc}`, time: '2026-03-01T10:00:00Z' },
      {
        process_kprobe: {
          process,
          function_name: 'tcp_connect',
          args: [
            {
              sock_arg: {
                family: 'AF_INET',
                saddr: `10.0.0.1${esc}`,
                daddr: `1.2.3.4${esc}`,
                dport: 1,
              },
            },
          ],
        },
        time: '2026-03-01T10:00:01Z',
      },
      {
        process_kprobe: {
          process,
          function_name: 'security_file_open',
          args: [{ file_arg: { path: `/etc/${esc}` } }],
        },
        time: '2026-03-01T10:00:02Z',
      },
    ];
    const file = join(scratch.dir, 'crafted.jsonl');
    writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'));
    const run = await runCli(['import', file, '--db', db]);
    assert.equal(run.code, 0, run.stderr);
  });

  test('search prints no raw control character from any field', async () => {
    const run = await runCli(['search', '--db', db, '--pid', '4242']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /net {2}connect/);
    assert.match(run.stdout, /file open/);
    assert.doesNotMatch(run.stdout + run.stderr, CONTROL);
  });

  test('tree prints no raw control character from any field', async () => {
    const run = await runCli(['tree', execId, '--db', db]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /unknown process, never seen/);
    assert.doesNotMatch(run.stdout + run.stderr, CONTROL);
  });
});

describe('commands', () => {
  test('--help lists the four commands', async () => {
    const run = await runCli(['--help']);
    assert.equal(run.code, 0);
    for (const command of ['import', 'tree', 'search', 'export']) {
      assert.match(run.stdout, new RegExp(`\\n  ${command} `));
    }
  });

  test('tree of an exec_id that is not stored exits 1 and says so', async () => {
    const db = scratch.db('empty.db');
    const run = await runCli(['tree', 'bm9uZTowOjA=', '--db', db]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no process with exec_id bm9uZTowOjA=/);
  });

  test('PROCTRAIL_DB names the database when --db is not given', async () => {
    const db = scratch.db('from-env.db');
    process.env.PROCTRAIL_DB = db;
    try {
      assert.equal((await runCli(['import', corpusFile('book-process-lifecycle.jsonl')])).code, 0);
      const run = await runCli(['search', '--binary', 'nc', '--json', '--db', db]);
      assert.equal(JSON.parse(run.stdout).length, 1);
    } finally {
      delete process.env.PROCTRAIL_DB;
    }
  });

  test('an unknown option is a usage error with exit code 1', async () => {
    const run = await runCli(['search', '--colour', 'red', '--db', scratch.db('usage.db')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /unknown option '--colour'/);
  });
});
