import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exitOf, kernelSkipReason } from '@proctrail/bpf/testing';
import pino from 'pino';
import { Agent } from '../pipeline/agent';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { loadVulnerabilityRules } from './vulnerability-rules';

const skip = kernelSkipReason();
const logger = pino({ level: 'warn' });
const dir = mkdtempSync(join(tmpdir(), 'proctrail-inventory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** The GNU build-id as readelf prints it: an independent reading of the note. */
function readelfBuildId(path: string): string {
  const notes = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  const found = /Build ID: ([0-9a-f]+)/.exec(notes);
  assert.ok(found, `readelf found a build-id in ${path}`);
  return found[1]!;
}

function cc(args: string[]): void {
  execFileSync('cc', args, { stdio: 'inherit' });
}

async function run(command: string, args: string[]): Promise<number> {
  const child = spawn(command, args, { stdio: 'ignore' });
  assert.equal(await exitOf(child), 0, `${command} ${args.join(' ')}`);
  return child.pid!;
}

describe('the software inventory on the real kernel', { skip }, () => {
  let store: SqliteStore;
  before(() => {
    store = SqliteStore.open(join(dir, 'inventory.db'));
  });
  after(() => store.close());

  test('a dlopen()ed shared library is recorded once, with its hash, build-id, SONAME and version', async () => {
    writeFileSync(join(dir, 'answer.c'), 'int answer(void) { return 42; }\n');
    writeFileSync(
      join(dir, 'loader.c'),
      [
        '#include <dlfcn.h>',
        '#include <stdio.h>',
        'int main(int argc, char **argv) {',
        '  for (int i = 0; i < 2; i++) {',
        '    void *lib = dlopen(argv[1], RTLD_NOW);',
        '    if (!lib) { fprintf(stderr, "%s\\n", dlerror()); return 1; }',
        '    int (*answer)(void) = (int (*)(void))dlsym(lib, "answer");',
        '    if (!answer || answer() != 42) return 2;',
        '    dlclose(lib);',
        '  }',
        '  return 0;',
        '}',
      ].join('\n'),
    );
    const library = join(dir, 'libanswer.so.1.2.3');
    const loader = join(dir, 'loader');
    cc([
      '-shared',
      '-fPIC',
      '-Wl,--build-id',
      '-Wl,-soname,libanswer.so.1',
      '-o',
      library,
      join(dir, 'answer.c'),
    ]);
    cc(['-Wl,--build-id', '-o', loader, join(dir, 'loader.c'), '-ldl']);

    const agent = await Agent.start({ store, logger, nodeName: 'inventory-test' });
    try {
      await run(loader, [library]);
    } finally {
      await agent.stop();
    }

    const found = await store.inventory({ library: 'libanswer*', limit: 10 });
    assert.equal(found.loads.length, 1, 'dlopen twice, recorded once for the process');
    const load = found.loads[0]!;
    assert.equal(load.path, library);
    assert.equal(load.sha256, sha256Of(library));
    assert.equal(load.buildId, readelfBuildId(library));
    assert.equal(load.soname, 'libanswer.so.1');
    assert.equal(load.name, 'answer');
    assert.equal(load.version, '1.2.3');
    assert.equal(load.binary, loader);
    assert.equal(load.running, false);

    const ran = await store.inventory({ binary: loader, limit: 10 });
    assert.equal(ran.loads.length, 1);
    assert.equal(ran.loads[0]!.sha256, sha256Of(loader));
    assert.equal(ran.loads[0]!.buildId, readelfBuildId(loader));
    assert.equal(ran.loads[0]!.execId, load.execId, 'the same process ran the loader');

    const libc = await store.inventory({ library: 'libc.so.6', execId: load.execId, limit: 5 });
    assert.ok(
      libc.loads.some((l) => l.sha256 && l.soname === 'libc.so.6'),
      'the dynamic loader opened libc for the same process',
    );
  });

  test('a binary rewritten in place gets a new hash at its next exec; one that is gone is said so', async () => {
    for (const [name, word] of [
      ['first.c', 'first'],
      ['second.c', 'second'],
    ] as const) {
      writeFileSync(
        join(dir, name),
        `const char *word = "${word}"; int main(void) { return 0; }\n`,
      );
    }
    const target = join(dir, 'rewritten');
    cc(['-o', join(dir, 'first'), join(dir, 'first.c')]);
    cc(['-o', join(dir, 'second'), join(dir, 'second.c')]);
    writeFileSync(target, readFileSync(join(dir, 'first')), { mode: 0o755 });
    const firstHash = sha256Of(target);
    writeFileSync(
      join(dir, 'vanish.c'),
      '#include <unistd.h>\nint main(int argc, char **argv) { return unlink(argv[0]); }\n',
    );
    const vanishing = join(dir, 'vanishing');
    cc(['-o', vanishing, join(dir, 'vanish.c')]);
    const vanishingHash = sha256Of(vanishing);

    const agent = await Agent.start({ store, logger, nodeName: 'inventory-test' });
    let secondHash: string;
    try {
      await run(target, []);
      // The first run's hash must be taken before the rewrite: a process that exits before
      // its binary is hashed is hashed by path, and would get whatever the file holds then.
      for (let tries = 0; ; tries++) {
        const first = await store.inventory({ binary: target, limit: 5 });
        if (first.loads.some((l) => l.sha256 || l.error)) break;
        assert.ok(tries < 200, 'the first run was hashed within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Same inode, new content and modification time: the cache must not answer.
      writeFileSync(target, readFileSync(join(dir, 'second')));
      secondHash = sha256Of(target);
      assert.notEqual(secondHash, firstHash);
      await run(target, []);
      await run(vanishing, []);
    } finally {
      await agent.stop();
    }

    const runs = await store.inventory({ binary: target, limit: 10 });
    assert.deepEqual(
      runs.loads.map((l) => l.sha256).sort(),
      [firstHash, secondHash].sort(),
      'one execution per content',
    );
    assert.equal(runs.files.length, 2);

    const gone = await store.inventory({ binary: vanishing, limit: 10 });
    assert.equal(gone.loads.length, 1);
    const row = gone.loads[0]!;
    // Hashed through /proc/<pid>/exe while it lived, or recorded as gone: never a wrong hash.
    assert.ok(
      row.sha256 === vanishingHash || (row.sha256 === undefined && row.error === 'gone'),
      `the unlinked binary: ${JSON.stringify(row)}`,
    );
  });

  test('the built-in vulnerable-version rules load without problems', () => {
    const loaded = loadVulnerabilityRules();
    assert.deepEqual(loaded.problems, []);
    assert.ok(loaded.rules.some((r) => r.name === 'log4j-core-before-2.17.1'));
  });
});
