import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseTetragonJson } from '@proctrail/schema';
import { scratchDir } from '../testing/harness';
import type { StoredEvent } from '../store/types';
import { JsonlExporter } from './jsonl-exporter';

const scratch = scratchDir();
after(() => scratch.remove());

function stored(id: number): StoredEvent {
  const json = JSON.stringify({
    process_exec: { process: { exec_id: `id-${id}`, pid: id, binary: '/bin/true' } },
    node_name: 'n',
    time: '2026-01-01T00:00:00Z',
  });
  return {
    id,
    sourceId: 1,
    kind: 'process_exec',
    time: null,
    execId: `id-${id}`,
    nodeName: 'n',
    json,
  };
}

test('the export file holds Tetragon JSON lines and rotates by size, keeping the newest files', () => {
  const file = join(scratch.dir, 'events.jsonl');
  const lineBytes = stored(1).json.length + 1;
  const exporter = new JsonlExporter(file, { maxBytes: lineBytes * 3, keep: 2 });
  for (let id = 1; id <= 10; id++) exporter.write([stored(id)]);
  exporter.close();

  const pidsOf = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const parsed = parseTetragonJson(line);
        assert.ok(parsed.ok, 'every line is a Tetragon event');
        return parsed.parsed.event.process_exec?.process?.pid;
      });
  assert.deepEqual(pidsOf(file), [10]);
  assert.deepEqual(pidsOf(`${file}.1`), [7, 8, 9]);
  assert.deepEqual(pidsOf(`${file}.2`), [4, 5, 6]);
  assert.equal(existsSync(`${file}.3`), false, 'older files beyond `keep` are deleted');
});
