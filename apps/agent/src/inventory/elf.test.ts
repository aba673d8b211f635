import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readElfFacts } from './elf';
import { readFileFacts } from './file-facts';

const dir = mkdtempSync(join(tmpdir(), 'proctrail-elf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function factsOf(path: string) {
  const file = await open(path);
  try {
    return await readElfFacts(file, (await file.stat()).size);
  } finally {
    await file.close();
  }
}

function readelf(args: string[], path: string): string {
  return execFileSync('readelf', [...args, path], { encoding: 'utf8' });
}

test('the build-id and SONAME read from the program headers are the ones readelf prints', async () => {
  const libc = execFileSync(
    'sh',
    ['-c', 'readlink -f "$(ldd /bin/true | awk \'/libc.so/ {print $3}\')"'],
    {
      encoding: 'utf8',
    },
  ).trim();
  for (const path of ['/bin/true', libc]) {
    const facts = await factsOf(path);
    const buildId = /Build ID: ([0-9a-f]+)/.exec(readelf(['-n'], path))?.[1];
    assert.equal(facts.buildId, buildId, path);
  }
  assert.equal(
    (await factsOf(libc)).soname,
    /Library soname: \[([^\]]+)\]/.exec(readelf(['-d'], libc))?.[1],
  );
  assert.equal((await factsOf('/bin/true')).soname, undefined, 'an executable has no SONAME');
});

test('files that are not ELF, or are cut short, say nothing and throw nothing', async () => {
  const text = join(dir, 'text.so');
  writeFileSync(text, 'not an ELF file at all');
  assert.deepEqual(await factsOf(text), {});
  const truncated = join(dir, 'cut.so');
  writeFileSync(truncated, readFileSync('/bin/true').subarray(0, 200));
  assert.deepEqual(await factsOf(truncated), {});
  const garbage = Buffer.alloc(4096, 0xff);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]).copy(garbage);
  const hostile = join(dir, 'hostile.so');
  writeFileSync(hostile, garbage);
  assert.deepEqual(await factsOf(hostile), {});
});

test('a file that is gone, or not a regular file, is a FileFactsError with its reason', async () => {
  await assert.rejects(readFileFacts(join(dir, 'missing.so')), {
    name: 'FileFactsError',
    reason: 'gone',
  });
  const fifo = join(dir, 'pipe.so');
  execFileSync('mkfifo', [fifo]);
  // O_NONBLOCK: opening a FIFO without a writer must not hang the agent.
  await assert.rejects(readFileFacts(fifo), { reason: 'not-a-file' });
});
