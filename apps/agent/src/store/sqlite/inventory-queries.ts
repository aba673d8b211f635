import type Database from 'better-sqlite3';
import { type InventorySearchResult, type ValidInventoryFilters } from '@proctrail/schema';
import {
  FILES_MAX,
  INVENTORY_FROM,
  inventoryConditions,
  toFile,
  toLoad,
  whereSql,
  type FileRow,
  type GlobMatch,
  type LoadRow,
} from '../shared/inventory-rows';

const SQLITE_GLOB: GlobMatch = { operator: 'GLOB', pattern: (glob) => glob };

/**
 * Who ran or loaded what: the matching loads, newest first, and per file (path and hash) how
 * many processes loaded it, how many still run and when it was last loaded ("is it gone?").
 * The per-file summary ignores `running`: a file no running process holds shows 0 there.
 */
export function searchInventory(
  db: Database.Database,
  filters: ValidInventoryFilters,
): InventorySearchResult {
  const params: unknown[] = [];
  const where = inventoryConditions(filters, params, SQLITE_GLOB);
  const loadWhere = filters.running ? [...where, 'e.exit_time IS NULL', 'e.id IS NOT NULL'] : where;
  const loads = db
    .prepare(
      `SELECT l.role, l.path, l.sha256, l.build_id AS buildId, l.name, l.version, l.soname,
         l.error, l.advisories, l.time, l.node_name AS nodeName, l.exec_id AS execId, e.pid,
         e.binary, (e.id IS NOT NULL AND e.exit_time IS NULL) AS running
       ${INVENTORY_FROM} ${whereSql(loadWhere)}
       ORDER BY l.time DESC, l.id DESC LIMIT ?`,
    )
    .all(...params, filters.limit) as LoadRow[];
  const files = db
    .prepare(
      `SELECT l.role, l.path, l.sha256, max(l.name) AS name, max(l.version) AS version,
         max(l.advisories) AS advisories, group_concat(DISTINCT l.node_name) AS nodes,
         count(DISTINCT l.exec_id) AS processes,
         count(DISTINCT CASE WHEN e.id IS NOT NULL AND e.exit_time IS NULL THEN l.exec_id END)
           AS runningProcesses,
         max(l.time) AS lastLoadedAt
       ${INVENTORY_FROM} ${whereSql(where)}
       GROUP BY l.role, l.path, l.sha256
       ORDER BY lastLoadedAt DESC LIMIT ?`,
    )
    .all(...params, FILES_MAX) as FileRow[];
  return { loads: loads.map(toLoad), files: files.map(toFile) };
}
