import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { execIdFor } from '@proctrail/schema';
import { importInputs } from '../../import/importer';
import { scratchDir } from '../../testing/harness';
import type { StoreTarget } from '../../testing/store-targets';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../types';

const node = 'retention';
const id = (pid: number) => execIdFor(node, BigInt(pid) * 1000n, pid);

function process(pid: number, parentPid: number | undefined, start: string) {
  return {
    exec_id: id(pid),
    pid,
    binary: `/bin/p${pid}`,
    flags: 'execve clone',
    start_time: start,
    ...(parentPid ? { parent_exec_id: id(parentPid) } : {}),
  };
}

/** January: a parent (still running) with an old child that exited; March: a new child. */
function lines(): string {
  const parent = process(10, undefined, '2026-01-01T00:00:00Z');
  const oldChild = process(11, 10, '2026-01-02T00:00:00Z');
  const newChild = process(12, 10, '2026-03-01T00:00:00Z');
  const event = (kind: string, p: object, time: string, extra = {}) =>
    JSON.stringify({ [kind]: { process: p, ...extra }, node_name: node, time });
  return [
    event('process_exec', parent, '2026-01-01T00:00:00Z'),
    event('process_exec', oldChild, '2026-01-02T00:00:00Z'),
    event('process_kprobe', oldChild, '2026-01-02T00:00:01Z', {
      function_name: 'tcp_connect',
      args: [
        {
          sock_arg: {
            family: 'AF_INET',
            saddr: '127.0.0.1',
            daddr: '127.0.0.2',
            sport: 1,
            dport: 2,
          },
        },
      ],
    }),
    event('process_exit', oldChild, '2026-01-03T00:00:00Z'),
    event('process_exec', newChild, '2026-03-01T00:00:00Z'),
  ].join('\n');
}

/** Retention by age and by size, on the store `target` makes. */
export function retentionSuite(target: () => StoreTarget): void {
  const scratch = scratchDir();
  after(() => scratch.remove());

  async function storeWithHistory(name: string): Promise<{ store: Store; args: string[] }> {
    const args = await target().create(name);
    const store = await target().open(args);
    const file = join(scratch.dir, `${name}.jsonl`);
    writeFileSync(file, lines());
    await importInputs(store, await store.source('import', 'import'), [file]);
    return { store, args };
  }

  describe('retention', () => {
    test('events older than the cutoff go, with their edges and the executions left with nothing', async () => {
      const { store, args } = await storeWithHistory('age');
      const result = await store.prune({ before: '2026-02-01T00:00:00.000000000Z' });
      assert.equal(result.events, 4);
      const left = await store.search({ limit: 10 });
      const pids = left.map((p) => p.pid).sort();
      // The old child had only old events: gone. The parent's exec event is old too, but its
      // March child still names it, so its execution stays for the tree.
      assert.deepEqual(pids, [10, 12]);
      await store.close();
      assert.equal(await target().countRows(args, 'network_edges'), 0);
    });

    test('a size cap deletes the oldest events first until the data fits', async () => {
      const { store } = await storeWithHistory('size');
      const result = await store.prune({ maxBytes: 1 });
      assert.equal(result.events, 5, 'a one-byte cap leaves no event');
      const counts = await store.counts();
      assert.equal(counts.events, 0);
      const left = await store.search({ limit: 10 });
      assert.deepEqual(
        left.map((p) => p.pid).sort(),
        [10, 12],
        'the exited child goes; processes never seen exiting stay',
      );
      await store.close();
    });

    test('a process that has not exited stays however old its events', async () => {
      const { store } = await storeWithHistory('running');
      await store.prune({ before: '2027-01-01T00:00:00.000000000Z' });
      const left = await store.search({ limit: 10 });
      assert.deepEqual(left.map((p) => p.pid).sort(), [10, 12]);
      await store.close();
    });
  });
}
