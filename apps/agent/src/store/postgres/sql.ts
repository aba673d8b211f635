import type pg from 'pg';
import { StoreError } from '../errors';

/** A piece of a WHERE clause with `?` placeholders, in the order of its parameters. */
export interface Condition {
  sql: string;
  params: unknown[];
}

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
