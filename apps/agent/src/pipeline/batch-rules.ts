import type { Finding } from '../detection/engine';
import type { IngestItem, SourceInfo, Store, WriteResult } from '../store/types';

/** Detection rules that the batch writers run inside each batch's transaction. */
export interface BatchRules {
  /** Runs as Store.write's FindInBatch: the transaction is open, nothing may be awaited. */
  find(items: readonly IngestItem[], result: WriteResult): readonly Finding[];
  /** The batch rolled back: what find returned was never stored. */
  discard(findings: readonly Finding[]): void;
}

/** Writes a batch and, in the same transaction, what its rules find in it. */
export async function writeBatchWithRules(
  store: Store,
  source: SourceInfo,
  items: readonly IngestItem[],
  rules: BatchRules | undefined,
): Promise<WriteResult> {
  if (!rules) return store.write(source, items);
  let found: readonly Finding[] = [];
  try {
    return await store.write(source, items, (result) => (found = rules.find(items, result)));
  } catch (error) {
    rules.discard(found);
    throw error;
  }
}
