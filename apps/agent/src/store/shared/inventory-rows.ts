import {
  toSortableTime,
  type InventoryFile,
  type InventoryLoad,
  type ValidInventoryFilters,
} from '@proctrail/schema';

/* Rows, conditions and mapping of an inventory search, alike in both stores; the SQL that reads
   them stays with each store, as its aggregates and casts differ. */

export interface LoadRow {
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

export interface FileRow {
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
export const FILES_MAX = 1000;

/**
 * How a dialect tests a column against a shell glob: SQLite has GLOB, PostgreSQL a regular
 * expression made from the glob.
 */
export interface GlobMatch {
  /** The operator between the column and the bound pattern, such as "GLOB" or "~". */
  operator: string;
  /** The bound pattern for a glob. */
  pattern: (glob: string) => string;
}

/** A glob without "/" matches the file name alone, as detection rules' binary globs do. */
function pathGlob(column: string, params: unknown[], glob: string, match: GlobMatch): string {
  if (glob.includes('/')) {
    params.push(match.pattern(glob));
    return `${column} ${match.operator} ?`;
  }
  params.push(match.pattern(`*/${glob}`), match.pattern(glob));
  return `(${column} ${match.operator} ? OR ${column} ${match.operator} ?)`;
}

/** The WHERE clause of a search; `running` is left to the caller (the summary ignores it). */
export function inventoryConditions(
  filters: ValidInventoryFilters,
  params: unknown[],
  match: GlobMatch,
): string[] {
  const where: string[] = [];
  const roles: string[] = [];
  if (filters.binary) {
    roles.push(`(l.role = 'executable' AND ${pathGlob('l.path', params, filters.binary, match)})`);
  }
  if (filters.library) {
    const byPath = pathGlob('l.path', params, filters.library, match);
    params.push(match.pattern(filters.library));
    roles.push(`(l.role = 'library' AND (${byPath} OR l.name ${match.operator} ?))`);
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

export const INVENTORY_FROM = `FROM software_loads l
  LEFT JOIN executions e ON e.source_id = l.source_id AND e.exec_id = l.exec_id`;

export const whereSql = (where: string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

export function toLoad(row: LoadRow): InventoryLoad {
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

export function toFile(row: FileRow): InventoryFile {
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
