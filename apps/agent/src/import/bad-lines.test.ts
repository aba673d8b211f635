import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import type { ImportSummary } from './importer';
import { corpusFile, jsonOf, runCli, scratchDir } from '../testing/harness';

type ImportReport = ImportSummary & { database: { events: number; executions: number } };

const scratch = scratchDir();
after(() => scratch.remove());

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The lifecycle file's nine real events, as lines. */
const REAL_LINES = readFileSync(corpusFile('book-process-lifecycle.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean);

function write(name: string, content: string | Buffer): string {
  const file = join(scratch.dir, name);
  writeFileSync(file, content);
  return file;
}

async function importJson(file: string, db: string) {
  const run = await runCli(['import', file, '--db', db, '--json']);
  return { ...run, report: jsonOf<ImportReport>(run) };
}

/** The real events with one bad line put in at `index`. */
function withBadLine(bad: string, index = 4): string {
  const lines = [...REAL_LINES];
  lines.splice(index, 0, bad);
  return lines.join('\n') + '\n';
}

describe('bad lines', () => {
  const mutate = (
    edit: (event: Record<string, Record<string, Record<string, unknown>>>) => void,
  ) => {
    const event = JSON.parse(REAL_LINES[0]!);
    edit(event);
    return JSON.stringify(event);
  };

  const cases: Array<{ name: string; line: string; field?: string; reason: RegExp }> = [
    { name: 'text that is not JSON', line: '{"process_exec": {"process": ', reason: /not JSON/ },
    { name: 'a JSON object without an event key', line: '{"node_name":"x"}', reason: /no event/ },
    {
      name: 'an unknown event kind',
      line: '{"process_teleport":{},"time":"2026-01-01T00:00:00Z"}',
      reason: /process_teleport/,
    },
    { name: 'a JSON array', line: '[1,2]', reason: /an array/ },
    { name: 'a JSON number', line: '42', reason: /number/ },
    {
      name: 'a pid written as a string',
      line: mutate((e) => (e.process_exec!.process!.pid = '12')),
      field: 'process_exec.process.pid',
      reason: /number/,
    },
    {
      name: 'a start time that is not a time',
      line: mutate((e) => (e.process_exec!.process!.start_time = 'yesterday')),
      field: 'process_exec.process.start_time',
      reason: /RFC 3339/,
    },
  ];

  for (const { name, line, field, reason } of cases) {
    test(`${name} is skipped and reported with its file, line and field; the rest is kept`, async () => {
      const file = write(`bad-${name.replace(/\W+/g, '-')}.jsonl`, withBadLine(line));
      const db = scratch.db(`bad-${name.replace(/\W+/g, '-')}.db`);
      const { code, report } = await importJson(file, db);
      assert.equal(code, 2);
      assert.equal(report.read, REAL_LINES.length + 1);
      assert.equal(report.stored, REAL_LINES.length);
      assert.equal(report.skipped.length, 1);
      const [skipped] = report.skipped;
      assert.equal(skipped!.input, file);
      assert.equal(skipped!.line, 5);
      assert.equal(skipped!.field, field);
      assert.match(skipped!.reason, reason);

      const text = await runCli(['import', file, '--db', scratch.db(`text-${name}.db`)]);
      assert.equal(text.code, 2);
      const where = field ? `${file}:5 (field ${field})` : `${file}:5:`;
      assert.ok(text.stderr.includes(`skipped ${where}`), text.stderr);
    });
  }

  test('a bad first line does not hide the JSON lines after it', async () => {
    const file = write('bad-first.jsonl', withBadLine('this is a log line, not JSON', 0));
    const { code, report } = await importJson(file, scratch.db('bad-first.db'));
    assert.equal(code, 2);
    assert.equal(report.stored, REAL_LINES.length);
    assert.deepEqual(
      report.skipped.map((s) => s.line),
      [1],
    );
  });

  test('a truncated first line does not hide the JSON lines after it', async () => {
    const file = write('cut-first.jsonl', withBadLine(REAL_LINES[0]!.slice(0, 80), 0));
    const { code, report } = await importJson(file, scratch.db('cut-first.db'));
    assert.equal(code, 2);
    assert.equal(report.stored, REAL_LINES.length);
    assert.deepEqual(
      report.skipped.map((s) => s.line),
      [1],
    );
  });

  test('a missing file exits 1 and says it cannot be read', async () => {
    const missing = join(scratch.dir, 'no-such-export.jsonl');
    const run = await runCli(['import', missing, '--db', scratch.db('missing.db')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot read .*no-such-export\.jsonl/);
  });
});

describe('input forms', () => {
  test('a gzip-compressed export is read by its magic bytes, whatever its name', async () => {
    const file = write('export.jsonl.gz', gzipSync(REAL_LINES.join('\n')));
    const plain = write('renamed', gzipSync(REAL_LINES.join('\n')));
    for (const input of [file, plain]) {
      const { code, report } = await importJson(input, scratch.db(`gzip-${input.length}.db`));
      assert.equal(code, 0);
      assert.equal(report.stored, REAL_LINES.length);
    }
  });

  test('a JSON array, pretty-printed or on one line, gives its elements', async () => {
    const events = REAL_LINES.map((l) => JSON.parse(l));
    for (const [name, text] of [
      ['pretty', JSON.stringify(events, null, 2)],
      ['one-line', JSON.stringify(events)],
    ] as const) {
      const { code, report } = await importJson(
        write(`${name}.json`, text),
        scratch.db(`${name}.db`),
      );
      assert.equal(code, 0, name);
      assert.equal(report.stored, REAL_LINES.length, name);
    }
  });

  test('concatenated pretty-printed objects are read one by one, a broken one skipped', async () => {
    const pretty = REAL_LINES.map((l) => JSON.stringify(JSON.parse(l), null, 2));
    const broken = pretty[2]!.replace('"pid": 38313', '"pid": "38313"');
    const text = [pretty[0], pretty[1], broken, ...pretty.slice(3)].join('\n');
    const { code, report } = await importJson(
      write('concatenated.json', text),
      scratch.db('cat.db'),
    );
    assert.equal(code, 2);
    assert.equal(report.stored, REAL_LINES.length - 1);
    const firstLineOfBroken = pretty[0]!.split('\n').length + pretty[1]!.split('\n').length + 1;
    assert.deepEqual(
      report.skipped.map((s) => [s.line, s.field]),
      [[firstLineOfBroken, 'process_kprobe.process.pid']],
    );
  });

  test('standard input is read when the input is "-"', () => {
    const db = scratch.db('stdin.db');
    const run = spawnSync(
      process.execPath,
      ['apps/agent/bin/proctrail.js', 'import', '-', '--db', db, '--json'],
      { cwd: REPO_ROOT, input: REAL_LINES.join('\n'), encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as ImportReport;
    assert.deepEqual(report.inputs, ['-']);
    assert.equal(report.stored, REAL_LINES.length);
    assert.equal(report.database.events, REAL_LINES.length);
  });
});
