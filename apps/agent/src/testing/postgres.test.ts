/**
 * The test PostgreSQL really starts on a loopback port, takes bound values, survives a stop and
 * start, and leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import pg from 'pg';
import { startTestPostgres } from './postgres';

test('a throwaway PostgreSQL starts on loopback, restarts, and is removed by stop()', async () => {
  const postgres = await startTestPostgres({ database: 'proctrail_check' });
  try {
    assert.match(postgres.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/proctrail_check$/);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    const { rows } = await client.query('SELECT current_database() AS db, $1::text AS argv', [
      "'; DROP TABLE x; --",
    ]);
    assert.deepEqual(rows, [{ db: 'proctrail_check', argv: "'; DROP TABLE x; --" }]);
    await client.end();

    postgres.stopServer();
    await assert.rejects(async () => {
      const down = new pg.Client({ connectionString: postgres.url, connectionTimeoutMillis: 2000 });
      await down.connect();
    });
    postgres.startServer();
    const again = new pg.Client({ connectionString: postgres.url });
    await again.connect();
    assert.equal((await again.query('SELECT 1 AS one')).rows[0].one, 1);
    await again.end();
  } finally {
    postgres.stop();
  }
  assert.equal(existsSync(postgres.dir), false);
  postgres.stop();
});

test('a database name that is not a plain identifier is refused before anything starts', async () => {
  await assert.rejects(startTestPostgres({ database: 'x; DROP' }), /plain identifier/);
});
