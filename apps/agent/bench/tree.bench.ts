/**
 * Ancestry and descendants in a large store: the tree of a process 20 levels deep with its
 * first 1,000 descendants, in a database of one million executions. The database is built
 * in SQL (a recursive CTE), through the real migrations, indexes and search triggers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportBench } from '../../../scripts/bench-report';
import { indexPendingExecutions } from '../src/store/sqlite/event-writer';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { timeTargetTree } from './tree-timing';

const EXECUTIONS = 1_000_000;
const ANCESTRY_DEPTH = 20;
/** Descendants of the target: a tree of fan-out 4, more than the 1,000 asked for. */
const TARGET_DESCENDANTS = 2_000;
const QUERIES = 50;

const dir = mkdtempSync(join(tmpdir(), 'proctrail-bench-'));

function build(store: SqliteStore): void {
  const db = store.db;
  db.prepare(
    `INSERT INTO sources (id, name, kind, created_at) VALUES (1, 'bench', 'import', '')`,
  ).run();
  const insert = (count: number, idExpr: string, parentExpr: string, offset: number) =>
    db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${count})
      INSERT INTO executions (source_id, exec_id, parent_exec_id, node_name, pid, binary,
        arguments, flags, start_time, seen, info_rank, exec_event_count, process_json)
      SELECT 1, ${idExpr}, ${parentExpr}, 'bench', ${offset} + i, '/usr/bin/python3',
        'worker.py --job ' || i, 'execve clone',
        '2026-01-01T00:00:00.' || printf('%09d', i) || 'Z', 1, 3, 1,
        json_object('exec_id', ${idExpr}, 'pid', ${offset} + i, 'binary', '/usr/bin/python3',
          'arguments', 'worker.py --job ' || i, 'flags', 'execve clone')
      FROM n`);
  db.transaction(() => {
    // The ancestry: anc-0 (root) -> anc-1 -> ... -> anc-19 -> target.
    insert(
      ANCESTRY_DEPTH,
      `'anc-' || i`,
      `CASE WHEN i = 0 THEN NULL ELSE 'anc-' || (i - 1) END`,
      10,
    );
    insert(1, `'target'`, `'anc-${ANCESTRY_DEPTH - 1}'`, 100);
    insert(
      TARGET_DESCENDANTS,
      `'desc-' || i`,
      `CASE WHEN i < 4 THEN 'target' ELSE 'desc-' || (i / 4 - 1) END`,
      1000,
    );
    // Everything else: a forest of unrelated processes with base64-looking ids.
    const rest = EXECUTIONS - ANCESTRY_DEPTH - 1 - TARGET_DESCENDANTS;
    insert(rest, `hex(randomblob(12))`, `hex(randomblob(12))`, 100_000);
  })();
  indexPendingExecutions(db);
  db.exec('ANALYZE');
}

try {
  const store = SqliteStore.open(join(dir, 'tree.db'));
  const buildStart = performance.now();
  build(store);
  const buildSeconds = (performance.now() - buildStart) / 1000;

  const { medianMs: ms, processesShown: shown } = await timeTargetTree(
    store,
    QUERIES,
    ANCESTRY_DEPTH,
  );
  reportBench({
    name: 'tree: ancestry 20 deep + 1,000 descendants, 1M executions',
    value: Number(ms.toFixed(2)),
    unit: 'ms',
    goal: '< 5',
    met: ms < 5,
    detail: `median of ${QUERIES} queries, ${shown} processes returned; database built in ${Math.round(buildSeconds)} s`,
  });
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
