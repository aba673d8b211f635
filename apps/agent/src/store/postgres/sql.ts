import type pg from 'pg';
import { StoreError } from '../errors';

export type { Condition } from '../shared/event-conditions';

/**
 * Turns `?` placeholders into PostgreSQL's `$1, $2, ...`, so that queries are built the way
 * the SQLite store builds them (conditions joined in order, parameters appended). Only the
 * store's own SQL passes through here: values are always bound, never spliced, so no `?`
 * can come from data.
 */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Runs a query with `?` placeholders; a failure carries the SQL and the driver's error. */
export async function run<Row extends object = Record<string, unknown>>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const text = numbered(sql);
  try {
    const result = await db.query<Row>(text, params);
    return result.rows;
  } catch (error) {
    throw queryError(error, text);
  }
}

/** The same, with rows as arrays in the order of the SELECT list (cheaper for many rows). */
export async function runArrays<Row extends unknown[]>(
  db: pg.Pool | pg.PoolClient,
  sql: string,
  params: unknown[] = [],
): Promise<Row[]> {
  const text = numbered(sql);
  try {
    const result = await db.query<Row>({ text, values: params, rowMode: 'array' });
    return result.rows;
  } catch (error) {
    throw queryError(error, text);
  }
}

export function queryError(error: unknown, sql: string): StoreError {
  if (error instanceof StoreError) return error;
  return new StoreError('query', `PostgreSQL query failed: ${(error as Error).message}`, {
    cause: error,
    sql,
  });
}

/** `%text%` for LIKE, with LIKE's own wildcards in the text taken literally. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A glob as SQLite's GLOB reads it (`*`, `?`, `[...]` with `^` for "not", case-sensitive),
 * as an anchored PostgreSQL regular expression: the inventory's filters match alike on both
 * stores. A `[` without its `]` is a literal.
 */
export function globToRegex(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const close = classEnd(glob, i);
      if (close < 0) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^' : ''}${body.replace(/[\\[]/g, (x) => `\\${x}`)}]`;
      i = close;
    } else out += c.replace(/[.+^${}()|\\\]]/g, (x) => `\\${x}`);
  }
  return `${out}$`;
}

/** Where a GLOB character class that opens at `open` ends; a `]` right after `[` or `[^` is a member. */
function classEnd(glob: string, open: number): number {
  let i = open + 1;
  if (glob[i] === '^') i++;
  if (glob[i] === ']') i++;
  return glob.indexOf(']', i);
}

/** Connections that already have an error listener of ours (the pool reuses them). */
const guardedClients = new WeakSet<pg.PoolClient>();

/**
 * A pooled connection for several statements. A connection that breaks between two of them
 * (the server stopped) emits 'error' with no query to fail, which would end the process
 * without a listener: the next statement fails instead, and release() with that error
 * discards the connection.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  if (!guardedClients.has(client)) {
    client.on('error', () => undefined);
    guardedClients.add(client);
  }
  return client;
}

/** Lock space of the per-source write lock (pg_advisory_xact_lock's first key). */
export const SOURCE_LOCK_SPACE = 0x70747261; // "ptra"

/**
 * `body` in one transaction on one connection; with `sourceId`, holding that source's write
 * lock, so writers of one source take turns (writers of different sources never wait).
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  sourceId: number | undefined,
  body: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await checkout(pool);
  try {
    await client.query('BEGIN');
    if (sourceId !== undefined) {
      await run(client, 'SELECT pg_advisory_xact_lock(?, ?)', [SOURCE_LOCK_SPACE, sourceId]);
    }
    const result = await body(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(error as Error);
    throw error;
  }
}
