import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execIdFor, parseTetragonEvent, type TetragonProcess } from '@proctrail/schema';
import { Detector } from '../../detection/detector';
import { DetectionEngine } from '../../detection/engine';
import { loadRulesDir } from '../../detection/load-rules';
import { writeBatchWithRules, type BatchRules } from '../../pipeline/batch-rules';
import { DETECTIONS_REFUSED, type StoreTarget } from '../../testing/store-targets';
import type { IngestItem, Store } from '../types';

const java = {
  exec_id: execIdFor('node-b', 1_000n, 10),
  pid: 10,
  uid: 0,
  binary: '/usr/bin/java',
  arguments: '-jar app.jar',
  start_time: '2026-03-01T08:00:00Z',
  flags: 'execve clone',
} satisfies TetragonProcess;
const sh = {
  exec_id: execIdFor('node-b', 2_000n, 20),
  pid: 20,
  uid: 0,
  binary: '/bin/sh',
  arguments: '-c id',
  start_time: '2026-03-01T08:00:01Z',
  flags: 'execve clone',
  parent_exec_id: java.exec_id,
} satisfies TetragonProcess;

function exec(process: TetragonProcess, parent?: TetragonProcess): IngestItem {
  const raw = {
    process_exec: { process, ...(parent ? { parent } : {}) },
    node_name: 'node-b',
    time: process.start_time,
  };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return { parsed: outcome.parsed, raw };
}

const batch = [exec(java), exec(sh, java)];
const byExecId = new Map([[java.exec_id, java]]);

/** The live pipeline's rules: ancestry from what the batch itself started, as the cache has it. */
function rulesOf(detector: Detector): BatchRules {
  return {
    find: (items, result) =>
      detector.find(items, result, (process) => {
        const parent = byExecId.get(process.parent_exec_id ?? '');
        return parent ? [parent] : [];
      }),
    discard: (findings) => detector.discard(findings),
  };
}

function newDetector(store: Store, onDetections?: (rules: string[]) => void): Detector {
  return new Detector(new DetectionEngine(loadRulesDir().rules), store, {
    onDetections: onDetections && ((detections) => onDetections(detections.map((d) => d.rule))),
  });
}

async function storedCounts(store: Store) {
  const stats = await store.stats(0);
  const detections = await store.detections({ limit: 100 });
  return { events: stats.events, detections: detections.map((d) => `${d.rule} ${d.execId}`) };
}

/** The live pipeline's rules run inside each batch's transaction, on every store. */
export function detectionsInBatchSuite(target: () => StoreTarget): void {
  describe('detections stored in the transaction of the batch that fired them', () => {
    test('what the rules find is stored with its events and comes back in the result', async () => {
      const store = await target().open(await target().create('in_batch'));
      try {
        const source = await store.source('agent:node-b', 'agent');
        const result = await writeBatchWithRules(store, source, batch, rulesOf(newDetector(store)));

        assert.equal(result.stored, 2);
        assert.deepEqual(
          result.detections.map((d) => [d.rule, d.execId, d.binary, d.ancestors[0]?.execId]),
          [['shell-under-server-runtime', sh.exec_id, '/bin/sh', java.exec_id]],
        );
        assert.deepEqual(await storedCounts(store), {
          events: 2,
          detections: [`shell-under-server-runtime ${sh.exec_id}`],
        });
      } finally {
        await store.close();
      }
    });

    test('a batch whose detections cannot be stored rolls back whole, and its retry finds them again', async () => {
      const args = await target().create('rolled_back');
      const store = await target().open(args);
      try {
        const source = await store.source('agent:node-b', 'agent');
        const rules = rulesOf(newDetector(store));

        // A real failure inside the transaction, after the rules ran: the detection insert.
        const allowDetections = await target().refuseDetections(args);
        await assert.rejects(
          writeBatchWithRules(store, source, batch, rules),
          new RegExp(DETECTIONS_REFUSED),
        );
        assert.deepEqual(await storedCounts(store), { events: 0, detections: [] });

        // The engine remembers what it found to skip duplicates: the rolled-back finding must
        // not count as found, or the retried batch would be stored without its detection.
        await allowDetections();
        const retried = await writeBatchWithRules(store, source, batch, rules);
        assert.deepEqual(
          retried.detections.map((d) => d.rule),
          ['shell-under-server-runtime'],
        );
        assert.deepEqual(await storedCounts(store), {
          events: 2,
          detections: [`shell-under-server-runtime ${sh.exec_id}`],
        });
      } finally {
        await store.close();
      }
    });

    test('a finding the store already holds is neither stored nor announced again', async () => {
      const store = await target().open(await target().create('stored_once'));
      try {
        const source = await store.source('agent:node-b', 'agent');
        const announced: string[] = [];
        // The same exec seen again (a later copy of the event): the second detector has no
        // memory of the first finding, so only the store's unique index keeps it from being
        // stored twice.
        const again = exec(sh, java);
        (again.raw as { time: string }).time = '2026-03-01T08:00:05Z';
        for (const items of [batch, [again]]) {
          const detector = newDetector(store, (rules) => announced.push(...rules));
          const result = await writeBatchWithRules(store, source, items, rulesOf(detector));
          assert.equal(result.stored, items.length);
          detector.stored(result.detections);
        }
        assert.deepEqual(announced, ['shell-under-server-runtime']);
        assert.equal((await storedCounts(store)).detections.length, 1);
      } finally {
        await store.close();
      }
    });
  });
}
