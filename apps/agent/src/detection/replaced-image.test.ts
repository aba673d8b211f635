import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type TetragonProcess } from '@proctrail/schema';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { IngestItem } from '../store/types';
import { scratchDir } from '../testing/harness';
import { Detector, storeAncestry } from './detector';
import { DetectionEngine } from './engine';
import { loadRulesDir } from './load-rules';

const scratch = scratchDir();
after(() => scratch.remove());

function item(kind: string, body: Record<string, unknown>, time: string): IngestItem {
  const raw = { [kind]: body, node_name: 'node-r', time };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return { parsed: outcome.parsed, raw };
}

function proc(pid: number, ktime: bigint, binary: string, fields: Partial<TetragonProcess>) {
  return {
    exec_id: execIdFor('node-r', ktime, pid),
    pid,
    uid: 0,
    binary,
    start_time: '2026-03-01T08:00:00Z',
    ...fields,
  } satisfies TetragonProcess;
}

test('a detection names the image its exec_id identifies, not the one that replaced it in the same pid', async () => {
  const store = SqliteStore.open(scratch.db());
  const source = await store.source('export', 'import');
  const java = proc(10, 1_000n, '/usr/bin/java', { flags: 'execve clone', arguments: '-jar app' });
  const sh = proc(20, 2_000n, '/bin/sh', {
    flags: 'execve clone',
    arguments: '-c "exec curl ..."',
    parent_exec_id: java.exec_id,
  });
  // sh replaced itself with curl: same pid, a new exec_id whose parent is sh.
  const curl = proc(20, 3_000n, '/usr/bin/curl', {
    flags: 'execve',
    arguments: 'http://203.0.113.7/x',
    parent_exec_id: sh.exec_id,
  });
  // The read as some Tetragon exports print it: sh's exec_id, the replacing image's fields.
  const readBySh = { ...curl, exec_id: sh.exec_id, parent_exec_id: java.exec_id };
  const items = [
    item('process_exec', { process: java }, '2026-03-01T08:00:00Z'),
    item('process_exec', { process: sh, parent: java }, '2026-03-01T08:00:01Z'),
    item('process_exec', { process: curl, parent: sh }, '2026-03-01T08:00:02Z'),
    item(
      'process_kprobe',
      {
        process: readBySh,
        parent: java,
        function_name: 'security_file_open',
        args: [{ file_arg: { path: '/etc/shadow' } }],
      },
      '2026-03-01T08:00:03Z',
    ),
  ];

  try {
    const detector = new Detector(new DetectionEngine(loadRulesDir().rules), store);
    const result = await store.write(source, items);
    const created = await detector.afterWrite(source, items, result, storeAncestry(store, source));
    const read = created.find((d) => d.rule === 'sensitive-file-read');
    assert.ok(read, `the read of /etc/shadow is detected: ${created.map((d) => d.rule)}`);
    assert.equal(read.execId, sh.exec_id);
    assert.equal(read.binary, '/bin/sh', 'the label names sh, whose process the link opens');
    assert.equal(read.pid, 20);

    const [listed] = await store.detections({
      execId: sh.exec_id,
      rule: 'sensitive-file-read',
      limit: 10,
    });
    assert.deepEqual(listed, read, 'detection.list reads the same label back');
    const [shown] = await store.search({ execId: sh.exec_id, limit: 1 });
    assert.equal(shown?.binary, listed?.binary, 'and it is what the process page shows');
  } finally {
    await store.close();
  }
});
