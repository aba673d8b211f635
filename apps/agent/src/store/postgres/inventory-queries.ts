import type pg from 'pg';
import {
  toSortableTime,
  type InventoryFile,
  type InventoryLoad,
  type InventorySearchResult,
  type ValidInventoryFilters,
} from '@proctrail/schema';
import { globToRegex, run } from './sql';

interface LoadRow {
  role: InventoryLoad['role'];
  path: string;
  sha256: string | null;
  buildId: string | null;
  name: string | null;
  version: string | null;
  soname: string | null;
  error: string | null;
  advisories: string | null;
  time: string | null;
  nodeName: string | null;
  execId: string;
  pid: number | null;
  binary: string | null;
  running: number;
}

interface FileRow {
  role: InventoryFile['role'];
  path: string;
  sha256: string | null;
  name: string | null;
  version: string | null;
  advisories: string | null;
  nodes: string | null;
  processes: number;
  runningProcesses: number;
  lastLoadedAt: string | null;
}

/** As the SQLite store: files summarised at most. */
const FILES_MAX = 1000;

/** A glob without "/" matches the file name alone; globs as SQLite's GLOB reads them. */
function pathGlob(column: string, params: unknown[], glob: string): string {
  if (glob.includes('/')) {
    params.push(globToRegex(glob));
    return `${column} ~ ?`;
  }
  params.push(globToRegex(`*/${glob}`), globToRegex(glob));
  return `(${column} ~ ? OR ${column} ~ ?)`;
}

/** Keep in step with conditions of the SQLite store's inventory-queries.ts. */
function conditions(filters: ValidInventoryFilters, params: unknown[]): string[] {
  const where: string[] = [];
  const roles: string[] = [];
  if (filters.binary) {
    roles.push(`(l.role = 'executable' AND ${pathGlob('l.path', params, filters.binary)})`);
  }
  if (filters.library) {
    const byPath = pathGlob('l.path', params, filters.library);
    params.push(globToRegex(filters.library));
    roles.push(`(l.role = 'library' AND (${byPath} OR l.name ~ ?))`);
  }
  if (roles.length) where.push(`(${roles.join(' OR ')})`);
  if (filters.sha256) {
    where.push('l.sha256 = ?');
    params.push(filters.sha256);
  }
  if (filters.node) {
    where.push('l.node_name = ?');
    params.push(filters.node);
  }
  if (filters.execId) {
    where.push('l.exec_id = ?');
    params.push(filters.execId);
  }
  const since = filters.since ? toSortableTime(filters.since) : undefined;
  if (since) {
    where.push('l.time >= ?');
    params.push(since);
  }
  const until = filters.until ? toSortableTime(filters.until) : undefined;
  if (until) {
    where.push('l.time <= ?');
    params.push(until);
  }
  if (filters.vulnerable) where.push('l.advisories IS NOT NULL');
  return where;
}

const FROM = `FROM software_loads l
  LEFT JOIN executions e ON e.source_id = l.source_id AND e.exec_id = l.exec_id`;

const whereSql = (where: string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

function toLoad(row: LoadRow): InventoryLoad {
  const load: InventoryLoad = {
    role: row.role,
    path: row.path,
    advisories: row.advisories ? (JSON.parse(row.advisories) as string[]) : [],
    execId: row.execId,
    running: row.running === 1,
  };
  const optional = {
    sha256: row.sha256,
    buildId: row.buildId,
    name: row.name,
    version: row.version,
    soname: row.soname,
    error: row.error,
    time: row.time,
    nodeName: row.nodeName,
    pid: row.pid,
    binary: row.binary,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== null) Object.assign(load, { [key]: value });
  }
  return load;
}

function toFile(row: FileRow): InventoryFile {
  const file: InventoryFile = {
    role: row.role,
    path: row.path,
    advisories: row.advisories ? (JSON.parse(row.advisories) as string[]) : [],
    nodes: row.nodes ? row.nodes.split(',').sort() : [],
    processes: row.processes,
    runningProcesses: row.runningProcesses,
  };
  if (row.sha256 !== null) file.sha256 = row.sha256;
  if (row.name !== null) file.name = row.name;
  if (row.version !== null) file.version = row.version;
  if (row.lastLoadedAt !== null) file.lastLoadedAt = row.lastLoadedAt;
  return file;
}

/** See searchInventory of the SQLite store. */
export async function searchInventory(
  pool: pg.Pool,
  filters: ValidInventoryFilters,
): Promise<InventorySearchResult> {
  const params: unknown[] = [];
  const where = conditions(filters, params);
  const loadWhere = filters.running ? [...where, 'e.exit_time IS NULL', 'e.id IS NOT NULL'] : where;
  const loads = await run<LoadRow>(
    pool,
    `SELECT l.role, l.path, l.sha256, l.build_id AS "buildId", l.name, l.version, l.soname,
       l.error, l.advisories, l.time, l.node_name AS "nodeName", l.exec_id AS "execId", e.pid,
       e."binary" AS "binary", (e.id IS NOT NULL AND e.exit_time IS NULL)::int AS running
     ${FROM} ${whereSql(loadWhere)}
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
     ${FROM} ${whereSql(where)}
     GROUP BY l.role, l.path, l.sha256
     ORDER BY "lastLoadedAt" DESC NULLS LAST LIMIT ?`,
    [...params, FILES_MAX],
  );
  return { loads: loads.map(toLoad), files: files.map(toFile) };
}
