import type pg from 'pg';
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
import { globToRegex, run } from './sql';

/** Globs as SQLite's GLOB reads them, as regular expressions. */
const POSTGRES_GLOB: GlobMatch = { operator: '~', pattern: globToRegex };

/** See searchInventory of the SQLite store. */
export async function searchInventory(
  pool: pg.Pool,
  filters: ValidInventoryFilters,
): Promise<InventorySearchResult> {
  const params: unknown[] = [];
  const where = inventoryConditions(filters, params, POSTGRES_GLOB);
  const loadWhere = filters.running ? [...where, 'e.exit_time IS NULL', 'e.id IS NOT NULL'] : where;
  const loads = await run<LoadRow>(
    pool,
    `SELECT l.role, l.path, l.sha256, l.build_id AS "buildId", l.name, l.version, l.soname,
       l.error, l.advisories, l.time, l.node_name AS "nodeName", l.exec_id AS "execId", e.pid,
       e."binary" AS "binary", (e.id IS NOT NULL AND e.exit_time IS NULL)::int AS running
     ${INVENTORY_FROM} ${whereSql(loadWhere)}
     ORDER BY l.time COLLATE "C" DESC NULLS LAST, l.id DESC LIMIT ?`,
    [...params, filters.limit],
  );
  const files = await run<FileRow>(
    pool,
    `SELECT l.role, l.path, l.sha256, max(l.name COLLATE "C") AS name,
       max(l.version COLLATE "C") AS version, max(l.advisories COLLATE "C") AS advisories,
       string_agg(DISTINCT l.node_name, ',') AS nodes,
       count(DISTINCT l.exec_id)::int AS processes,
       count(DISTINCT CASE WHEN e.id IS NOT NULL AND e.exit_time IS NULL THEN l.exec_id END)::int
         AS "runningProcesses",
       max(l.time COLLATE "C") AS "lastLoadedAt"
     ${INVENTORY_FROM} ${whereSql(where)}
     GROUP BY l.role, l.path, l.sha256
     ORDER BY "lastLoadedAt" DESC NULLS LAST LIMIT ?`,
    [...params, FILES_MAX],
  );
  return { loads: loads.map(toLoad), files: files.map(toFile) };
}
