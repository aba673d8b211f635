import type Database from 'better-sqlite3';
import {
  toSortableTime,
  type InventoryFile,
  type InventoryLoad,
  type InventorySearchResult,
  type ValidInventoryFilters,
} from '@proctrail/schema';

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

/** Files summarised at most: one per (role, path, hash) among the matches. */
const FILES_MAX = 1000;

/** A glob without "/" matches the file name alone, as detection rules' binary globs do. */
function pathGlob(column: string, params: unknown[], glob: string): string {
  if (glob.includes('/')) {
    params.push(glob);
    return `${column} GLOB ?`;
  }
  params.push(`*/${glob}`, glob);
  return `(${column} GLOB ? OR ${column} GLOB ?)`;
}

/** The WHERE clause of a search; `running` is left to the caller (the summary ignores it). */
function conditions(filters: ValidInventoryFilters, params: unknown[]): string[] {
  const where: string[] = [];
  const roles: string[] = [];
  if (filters.binary) {
    roles.push(`(l.role = 'executable' AND ${pathGlob('l.path', params, filters.binary)})`);
  }
  if (filters.library) {
    const byPath = pathGlob('l.path', params, filters.library);
    params.push(filters.library);
    roles.push(`(l.role = 'library' AND (${byPath} OR l.name GLOB ?))`);
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
  const where = conditions(filters, params);
  const loadWhere = filters.running ? [...where, 'e.exit_time IS NULL', 'e.id IS NOT NULL'] : where;
  const loads = db
    .prepare(
      `SELECT l.role, l.path, l.sha256, l.build_id AS buildId, l.name, l.version, l.soname,
         l.error, l.advisories, l.time, l.node_name AS nodeName, l.exec_id AS execId, e.pid,
         e.binary, (e.id IS NOT NULL AND e.exit_time IS NULL) AS running
       ${FROM} ${whereSql(loadWhere)}
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
       ${FROM} ${whereSql(where)}
       GROUP BY l.role, l.path, l.sha256
       ORDER BY lastLoadedAt DESC LIMIT ?`,
    )
    .all(...params, FILES_MAX) as FileRow[];
  return { loads: loads.map(toLoad), files: files.map(toFile) };
}
