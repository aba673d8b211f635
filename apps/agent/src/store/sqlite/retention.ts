import type Database from 'better-sqlite3';

/** Events removed per statement, so a large prune does not hold the write lock for long. */
const CHUNK = 10_000;
/** Pruning executions works leaf first; each pass frees the parents of the last. */
const MAX_EXECUTION_PASSES = 64;

export interface PruneResult {
  events: number;
  executions: number;
}

/** Removes events (and their edges) whose ids are in the subquery. */
function deleteEvents(db: Database.Database, idsSql: string, params: unknown[]): number {
  const ids = db
    .prepare(idsSql)
    .pluck()
    .all(...params) as number[];
  if (ids.length === 0) return 0;
  const list = JSON.stringify(ids);
  db.prepare('DELETE FROM network_edges WHERE event_id IN (SELECT value FROM json_each(?))').run(
    list,
  );
  db.prepare('DELETE FROM file_edges WHERE event_id IN (SELECT value FROM json_each(?))').run(list);
  db.prepare('DELETE FROM software_loads WHERE event_id IN (SELECT value FROM json_each(?))').run(
    list,
  );
  return db.prepare('DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))').run(list)
    .changes;
}

/**
 * Executions go once nothing refers to them: no event of theirs is left and no child names
 * them as parent. A process that has not exited stays whatever its age.
 */
function pruneExecutions(db: Database.Database): number {
  const remove = db.prepare(`
    DELETE FROM executions
    WHERE id IN (
      SELECT e.id FROM executions e
      WHERE (e.exit_time IS NOT NULL OR (e.seen & 3) = 0)
        AND NOT EXISTS (SELECT 1 FROM events v WHERE v.source_id = e.source_id AND v.exec_id = e.exec_id)
        AND NOT EXISTS (
          SELECT 1 FROM executions c
          WHERE c.source_id = e.source_id AND c.parent_exec_id = e.exec_id AND c.id != e.id)
      LIMIT ${CHUNK})`);
  let removed = 0;
  for (let pass = 0; pass < MAX_EXECUTION_PASSES; pass++) {
    const changes = remove.run().changes;
    removed += changes;
    if (changes === 0) break;
  }
  return removed;
}

/**
 * Library loads stored without an event (the compact rows of Store.writeSoftwareLoads, whose
 * event_id is 0) go by their own time, or once their execution is gone.
 */
function pruneCompactLoads(db: Database.Database, before?: string): void {
  if (before !== undefined) {
    db.prepare('DELETE FROM software_loads WHERE event_id = 0 AND time < ?').run(before);
  }
  db.prepare(
    `DELETE FROM software_loads WHERE event_id = 0 AND NOT EXISTS (
       SELECT 1 FROM executions e
       WHERE e.source_id = software_loads.source_id AND e.exec_id = software_loads.exec_id)`,
  ).run();
}

/** Deletes events older than `before` (sortable time), then the executions left orphaned. */
export function pruneOlderThan(db: Database.Database, before: string): PruneResult {
  let events = 0;
  for (;;) {
    const n = db.transaction(() =>
      deleteEvents(db, `SELECT id FROM events WHERE time < ? ORDER BY time LIMIT ${CHUNK}`, [
        before,
      ]),
    )();
    events += n;
    if (n < CHUNK) break;
  }
  const executions = db.transaction(() => pruneExecutions(db))();
  db.transaction(() => pruneCompactLoads(db, before))();
  return { events, executions };
}

/** Bytes the database's live pages take (freed pages are reused, not returned to the disk). */
export function usedBytes(db: Database.Database): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

/**
 * Deletes the oldest events until the database's live pages fit in `maxBytes`. The file
 * itself does not shrink (that would take a VACUUM, which rewrites it whole); it stops growing.
 */
export function pruneToSize(db: Database.Database, maxBytes: number): PruneResult {
  const result: PruneResult = { events: 0, executions: 0 };
  while (usedBytes(db) > maxBytes) {
    const n = db.transaction(() =>
      deleteEvents(db, `SELECT id FROM events ORDER BY time LIMIT ${CHUNK}`, []),
    )();
    result.events += n;
    result.executions += db.transaction(() => pruneExecutions(db))();
    db.transaction(() => pruneCompactLoads(db))();
    if (n === 0) break;
  }
  return result;
}
