import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type ProcessTreeNode } from '@proctrail/schema';
import type { StoreTarget } from '../../testing/store-targets';
import type { IngestItem, SourceInfo, Store } from '../types';

const NODE = 'host-t';
const time = '2026-03-01T10:00:00.000000000Z';
const idOf = (pid: number) => execIdFor(NODE, BigInt(pid) * 1_000_000n, pid);

function execOf(pid: number, parentPid: number): IngestItem {
  const process = {
    exec_id: idOf(pid),
    pid,
    binary: '/usr/bin/sleep',
    arguments: String(pid),
    flags: 'execve clone',
    start_time: time,
    parent_exec_id: idOf(parentPid),
  };
  const raw = { process_exec: { process }, node_name: NODE, time };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok);
  return { parsed: outcome.parsed, raw };
}

/** Pid and children of each node, depth first, omitted children in brackets. */
function shape(nodes: ProcessTreeNode[]): string {
  return nodes
    .map(
      (n) => `${n.pid}${n.omittedChildren ? `[+${n.omittedChildren}]` : ''}(${shape(n.children)})`,
    )
    .join(' ');
}

/** Trees cut by size and depth limits, on the store `target` makes. */
export function treeSuite(target: () => StoreTarget): void {
  describe('descendants under a size limit', () => {
    let store: Store;
    let source: SourceInfo;

    before(async () => {
      store = await target().open(await target().create('tree'));
      source = await store.source('test', 'import');
      // 100 -> 101, 102, 103; each of those -> two children (1011, 1012, 1021, ...).
      const items = [execOf(100, 1)];
      for (const child of [101, 102, 103]) {
        items.push(
          execOf(child, 100),
          execOf(child * 10 + 1, child),
          execOf(child * 10 + 2, child),
        );
      }
      await store.write(source, items);
    });
    after(() => store.close());

    test('a limit inside a level keeps the nearest processes and counts every one left out', async () => {
      const tree = (await store.tree(source, idOf(100), { maxDescendants: 4 }))!;
      assert.equal(shape(tree.children), '101[+1](1011()) 102[+2]() 103[+2]()');
      assert.equal(tree.omittedDescendants, 5);
    });

    test('a limit at the end of a level counts the children of the whole level', async () => {
      const tree = (await store.tree(source, idOf(100), { maxDescendants: 3 }))!;
      assert.equal(shape(tree.children), '101[+2]() 102[+2]() 103[+2]()');
      assert.equal(tree.omittedDescendants, 6);
    });

    test('a depth limit counts the children below it', async () => {
      const tree = (await store.tree(source, idOf(100), { maxDepth: 1 }))!;
      assert.equal(shape(tree.children), '101[+2]() 102[+2]() 103[+2]()');
      assert.equal(tree.omittedDescendants, 6);
      const whole = (await store.tree(source, idOf(100)))!;
      assert.equal(
        shape(whole.children),
        '101(1011() 1012()) 102(1021() 1022()) 103(1031() 1032())',
      );
      assert.equal(whole.omittedDescendants, 0);
    });
  });
}
