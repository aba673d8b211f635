import type { StoreTarget } from '../../testing/store-targets';
import { detectionsInBatchSuite } from './detections-in-batch';
import { inventorySuite } from './inventory';
import { lifecycleSuite } from './lifecycle';
import { retentionSuite } from './retention';
import { searchSuite } from './search';
import { treeSuite } from './tree';

/**
 * Every storage suite, with the same assertions for every store: the SQLite file and a real
 * PostgreSQL run them alike (store-suite.test.ts, store-suite.postgres.test.ts).
 */
export function storeSuites(target: () => StoreTarget): void {
  searchSuite(target);
  treeSuite(target);
  retentionSuite(target);
  inventorySuite(target);
  lifecycleSuite(target);
  detectionsInBatchSuite(target);
}
