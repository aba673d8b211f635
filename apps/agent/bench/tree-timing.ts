/**
 * The tree benchmarks' measurement, the same for both stores: the tree of the process named
 * "target" (ancestry of `ancestryDepth`, its first 1,000 descendants), queried `queries` times.
 */
import { median } from '../../../scripts/bench-report';
import type { Store } from '../src/store/types';

export async function timeTargetTree(
  store: Store,
  queries: number,
  ancestryDepth: number,
): Promise<{ medianMs: number; processesShown: number }> {
  const source = { id: 1, name: 'bench', kind: 'import' as const };
  const timings: number[] = [];
  let processesShown = 0;
  for (let q = 0; q < queries; q++) {
    const start = performance.now();
    const tree = await store.tree(source, 'target', { maxDescendants: 1000 });
    timings.push(performance.now() - start);
    if (tree?.ancestors.length !== ancestryDepth) throw new Error('wrong ancestry length');
    processesShown = JSON.stringify(tree).split('"exec_id"').length - 1;
  }
  return { medianMs: median(timings), processesShown };
}
