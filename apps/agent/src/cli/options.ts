import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { processFiltersSchema, toSortableTime, type ValidProcessFilters } from '@proctrail/schema';
import { redactedUrl } from '../store/postgres/url';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { Store } from '../store/types';

export const DEFAULT_DB = 'data/proctrail.db';

/** The database file: --db, else $PROCTRAIL_DB, else data/proctrail.db under the current directory. */
export function databasePath(option: string | undefined): string {
  return resolve(option ?? process.env.PROCTRAIL_DB ?? DEFAULT_DB);
}

/** What --db and --store say; either may be absent. */
export interface StoreOptions {
  db?: string;
  store?: string;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * Which store a command opens: --store, else --db, else $PROCTRAIL_STORE, else $PROCTRAIL_DB,
 * else data/proctrail.db. A postgres:// or postgresql:// URL is PostgreSQL; anything else is
 * the path of a SQLite file.
 */
export function storeLocation(options: StoreOptions): {
  kind: 'postgres' | 'sqlite';
  where: string;
} {
  if (options.db !== undefined && options.store !== undefined) {
    throw new Error('give --db FILE or --store URL, not both');
  }
  const chosen = options.store ?? options.db ?? process.env.PROCTRAIL_STORE;
  if (chosen !== undefined && POSTGRES_URL.test(chosen)) return { kind: 'postgres', where: chosen };
  return { kind: 'sqlite', where: databasePath(chosen) };
}

/** The store's location for logs: a file's path, or a URL without its password. */
export function describeStore(options: StoreOptions): string {
  const { kind, where } = storeLocation(options);
  return kind === 'postgres' ? redactedUrl(where) : where;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const { kind, where } = storeLocation(options);
  if (kind === 'postgres') {
    // Loaded only here: pg and drizzle's driver stay out of the memory of SQLite commands.
    const { PostgresStore } = await import('../store/postgres/postgres-store');
    return PostgresStore.open(where);
  }
  return SqliteStore.open(where);
}

export function addDatabaseOption(command: Command): Command {
  return command
    .option('--db <file>', `SQLite database (default: $PROCTRAIL_DB or ${DEFAULT_DB})`)
    .option(
      '--store <url>',
      'postgres://user@host:port/db for PostgreSQL, or a SQLite file (default: $PROCTRAIL_STORE)',
    );
}

function integerOption(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** Accepts RFC 3339 times, and dates or times without a zone (read as UTC). */
export function timeOption(value: string): string {
  const withZone = /[zZ]|[+-]\d{2}:\d{2}$/.test(value) ? value : `${value}Z`;
  const full = /^\d{4}-\d{2}-\d{2}Z$/.test(withZone)
    ? withZone.replace('Z', 'T00:00:00Z')
    : withZone;
  const sortable = toSortableTime(full);
  if (!sortable) throw new InvalidArgumentError('expected a time such as 2026-12-03T10:00:00Z');
  return sortable;
}

/** The process filters shared by search and export. */
export function addFilterOptions(command: Command): Command {
  return command
    .option('--binary <text>', 'binary path contains text')
    .option('--args <text>', 'arguments contain text')
    .option('--pid <pid>', 'process id', integerOption('--pid', 0, 0xffff_ffff))
    .option('--exec-id <id>', 'exact exec_id')
    .option('--node <name>', 'node name')
    .option('--namespace <ns>', 'Kubernetes namespace')
    .option('--pod <text>', 'pod name contains text')
    .option('--container <id|name>', 'container id (or its first digits) or container name')
    .option('--workload <name>', 'Kubernetes workload (Deployment, DaemonSet, ...) by name')
    .option('--ip <addr>', 'source or destination address of a connection')
    .option(
      '--port <port>',
      'source or destination port of a connection',
      integerOption('--port', 0, 65535),
    )
    .option(
      '--path <path>',
      'file path: "/dir/..." matches it and what is under it, other text a substring',
    )
    .option(
      '--since <time>',
      'from this time (RFC 3339; a date or a time without zone is UTC)',
      timeOption,
    )
    .option('--until <time>', 'up to this time', timeOption)
    .option('--source <name>', 'only this import or agent');
}

export function filtersFrom(options: Record<string, unknown>, limit?: number): ValidProcessFilters {
  return processFiltersSchema.parse({
    binary: options.binary,
    args: options.args,
    pid: options.pid,
    execId: options.execId,
    node: options.node,
    namespace: options.namespace,
    pod: options.pod,
    container: options.container,
    workload: options.workload,
    ip: options.ip,
    port: options.port,
    path: options.path,
    since: options.since,
    until: options.until,
    source: options.source,
    limit,
  });
}
