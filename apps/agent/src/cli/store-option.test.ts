/**
 * Which store a command opens (--store, --db, PROCTRAIL_STORE, PROCTRAIL_DB), and what it
 * says when a PostgreSQL server cannot be reached: the URL without its password, host:port
 * and the driver's reason.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { runCli } from '../testing/harness';
import { storeLocation } from './options';

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('choosing the store', () => {
  afterEach(() => {
    delete process.env.PROCTRAIL_STORE;
    delete process.env.PROCTRAIL_DB;
  });

  test('postgres:// and postgresql:// URLs are PostgreSQL, anything else a SQLite file', () => {
    assert.equal(storeLocation({ store: 'postgres://h/db' }).kind, 'postgres');
    assert.equal(storeLocation({ store: 'postgresql://h/db' }).kind, 'postgres');
    assert.deepEqual(storeLocation({ store: '/tmp/x.db' }), { kind: 'sqlite', where: '/tmp/x.db' });
    assert.deepEqual(storeLocation({ db: '/tmp/y.db' }), { kind: 'sqlite', where: '/tmp/y.db' });
  });

  test('an option wins over the environment, and PROCTRAIL_STORE over PROCTRAIL_DB', () => {
    process.env.PROCTRAIL_STORE = 'postgres://env/db';
    process.env.PROCTRAIL_DB = '/tmp/env.db';
    assert.equal(storeLocation({}).where, 'postgres://env/db');
    assert.equal(storeLocation({ db: '/tmp/option.db' }).where, '/tmp/option.db');
    delete process.env.PROCTRAIL_STORE;
    assert.equal(storeLocation({}).where, '/tmp/env.db');
  });

  test('--db and --store together are refused', async () => {
    const run = await runCli(['search', '--db', '/tmp/a.db', '--store', 'postgres://h/db']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /give --db FILE or --store URL, not both/);
  });

  test('an unreachable server is named with host:port and the reason, its password masked', async () => {
    const port = await closedPort();
    const run = await runCli(['search', '--store', `postgres://ops:s3cret@127.0.0.1:${port}/x`]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `cannot reach PostgreSQL at postgres://ops:\\*\\*\\*@127\\.0\\.0\\.1:${port}/x ` +
          `\\(127\\.0\\.0\\.1:${port}\\): connect ECONNREFUSED`,
      ),
    );
    assert.ok(!run.stderr.includes('s3cret'));
  });
});
