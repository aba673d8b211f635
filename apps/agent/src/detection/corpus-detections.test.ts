import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { execIdFor } from '@proctrail/schema';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { corpusFile, runCli, scratchDir } from '../testing/harness';

const scratch = scratchDir();
after(() => scratch.remove());

async function importAndList(name: string) {
  const db = scratch.db(`${name}.db`);
  const run = await runCli(['import', '--db', db, corpusFile(name)]);
  const store = SqliteStore.open(db);
  try {
    return { run, detections: await store.detections({ limit: 100 }) };
  } finally {
    await store.close();
  }
}

describe('detections over the Tetragon corpus', () => {
  test('book-process-lifecycle: the shell in the elasticsearch pod and nc to 64.225.45.153:443', async () => {
    const { run, detections } = await importAndList('book-process-lifecycle.jsonl');
    assert.match(
      run.stdout,
      /^detections: 5 \(egress-from-spawned-shell: 1, late-exec: 3, shell-in-workload: 1\)$/m,
    );

    const shell = detections.find((d) => d.rule === 'shell-in-workload')!;
    assert.equal(shell.execId, execIdFor('minikube', 3349760516111n, 38312));
    assert.deepEqual(
      shell.ancestors.map((a) => a.binary),
      ['/bin/bash'],
    );

    const egress = detections.find((d) => d.rule === 'egress-from-spawned-shell')!;
    assert.equal(egress.binary, '/usr/bin/nc');
    assert.match(egress.explanation, /connected to 64\.225\.45\.153:443/);
    assert.equal(egress.evidenceEventIds.length, 1);
  });

  test('book-merlin-c2-chain: the shells under the C2 agent and the scp/ssh exfiltration', async () => {
    const { run, detections } = await importAndList('book-merlin-c2-chain.jsonl');
    assert.match(run.stdout, /^detections: 7 \(/m);

    const shells = detections.filter((d) => d.rule === 'shell-in-workload');
    assert.deepEqual(shells.map((d) => d.pid).sort(), [45779, 53766]);
    for (const shell of shells) {
      assert.equal(shell.severity, 'high');
      assert.match(shell.ancestors[0]!.binary!, /^\/tmp\/go-build\d+\/b001\/exe\/main$/);
    }

    const exfiltration = detections.find((d) => d.rule === 'egress-from-spawned-shell')!;
    assert.equal(exfiltration.binary, '/usr/bin/ssh');
    assert.match(exfiltration.explanation, /connected to 34\.116\.205\.187:22/);
    assert.deepEqual(
      exfiltration.ancestors.slice(0, 2).map((a) => a.binary),
      ['/usr/bin/scp', '/bin/sh'],
    );

    const agent = detections.find((d) => d.rule === 'exec-from-temp')!;
    assert.equal(agent.pid, 25744);
  });

  test('importing the same file again stores no detection twice', async () => {
    const db = scratch.db('twice.db');
    await runCli(['import', '--db', db, corpusFile('book-process-lifecycle.jsonl')]);
    const again = await runCli(['import', '--db', db, corpusFile('book-process-lifecycle.jsonl')]);
    assert.match(again.stdout, /^detections: 0$/m);
  });
});
