/**
 * The write queue waits out a store that is away and drops only batches the store refuses
 * (isPassingStoreError). Here that rule meets the errors the `pg` driver really raises: a
 * throwaway PostgreSQL on a loopback port is stopped (`pg_ctl stop -m fast`) under a pool and
 * started again, and a query with data PostgreSQL will not take is sent.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { isPassingStoreError } from './write-queue';

const BIN = '/usr/lib/postgresql/15/bin';

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a PostgreSQL binary as the postgres user (initdb refuses root). */
function asPostgres(binary: string, args: string[]): void {
  execFileSync('runuser', ['-u', 'postgres', '--', join(BIN, binary), ...args], {
    stdio: 'ignore',
    timeout: 60_000,
  });
}

async function errorOf(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected the query to fail');
}

describe('store errors from a real PostgreSQL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-pg-errors-'));
  const data = join(dir, 'data');
  let port = 0;
  let pool: pg.Pool;

  const start = () =>
    asPostgres('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`,
      'start',
    ]);
  const stop = () => asPostgres('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']);

  before(async () => {
    chmodSync(dir, 0o777);
    port = await freeLoopbackPort();
    asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    start();
    pool = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    });
    // An idle client that the server drops must not bring the test down.
    pool.on('error', () => undefined);
    await pool.query('CREATE TABLE events (id serial PRIMARY KEY, raw text NOT NULL)');
  });

  after(async () => {
    await pool?.end();
    try {
      stop();
    } catch {
      // Already stopped by a failed test.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test('a server stopped under the pool, and one not yet back, are errors to wait out', async () => {
    const client = await pool.connect();
    try {
      stop();
      const dropped = await errorOf(() => client.query(`INSERT INTO events (raw) VALUES ('a')`));
      assert.equal(isPassingStoreError(dropped), true, `${dropped.message}`);
    } finally {
      client.release(true);
    }
    const refused = await errorOf(() => pool.query(`INSERT INTO events (raw) VALUES ('b')`));
    assert.equal(isPassingStoreError(refused), true, `${refused.message}`);

    start();
    await pool.query(`INSERT INTO events (raw) VALUES ('c')`);
    const { rows } = await pool.query('SELECT raw FROM events');
    assert.deepEqual(rows, [{ raw: 'c' }]);
  });

  test('data PostgreSQL will not take is an error about the data', async () => {
    const nul = await errorOf(() =>
      pool.query('INSERT INTO events (raw) VALUES ($1)', ['argv with a \u0000 byte']),
    );
    assert.equal(isPassingStoreError(nul), false, `${nul.message}`);
    const missing = await errorOf(() => pool.query('INSERT INTO events (raw) VALUES ($1)', [null]));
    assert.equal(isPassingStoreError(missing), false, `${missing.message}`);
  });
});
