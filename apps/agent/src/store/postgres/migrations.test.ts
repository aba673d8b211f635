/**
 * PostgreSQL's migrations on a real server: they apply once (and again as a no-op), events go
 * to day partitions made on demand, a time-less event to its own partition, duplicates are
 * refused by the (time, source, digest) key, and dropping a day's partition removes exactly
 * that day's events, as retention will.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { postgresMigrationsFolder } from '@proctrail/db/migrations';
import { events, sources } from '@proctrail/db/postgres';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { startTestPostgres, type TestPostgres } from '../../testing/postgres';

describe('PostgreSQL migrations and event partitions', () => {
  let postgres: TestPostgres;
  let pool: pg.Pool;

  before(async () => {
    postgres = await startTestPostgres();
    pool = new pg.Pool({ connectionString: postgres.url });
  });
  after(async () => {
    await pool?.end();
    postgres?.stop();
  });

  test('migrations apply, partitions follow event days, and a day drops whole', async () => {
    const db = drizzle(pool);
    await migrate(db, { migrationsFolder: postgresMigrationsFolder });
    await migrate(db, { migrationsFolder: postgresMigrationsFolder });

    const [source] = await db
      .insert(sources)
      .values({ name: 'import:test', kind: 'import', createdAt: '2026-12-01T00:00:00.000000000Z' })
      .returning();
    const hostile = "x'); DROP TABLE events; --";
    const rows = [
      { time: '2026-12-01T10:00:00.000000001Z', digest: 'a' },
      { time: '2026-12-01T23:59:59.999999999Z', digest: 'b' },
      { time: '2026-12-02T00:00:00.000000000Z', digest: 'c' },
      { time: null, digest: 'd' },
    ].map((row) => ({
      ...row,
      sourceId: source!.id,
      kind: 'process_exec',
      raw: JSON.stringify({ argv: hostile }),
    }));
    for (const row of rows) {
      await db.execute(sql`SELECT proctrail_event_partition(${row.time})`);
    }
    await db.insert(events).values(rows);

    const placed = await pool.query<{ partition: string; digest: string }>(
      'SELECT tableoid::regclass::text AS partition, digest FROM events ORDER BY digest',
    );
    assert.deepEqual(
      placed.rows.map((r) => [r.digest, r.partition]),
      [
        ['a', 'events_20261201'],
        ['b', 'events_20261201'],
        ['c', 'events_20261202'],
        ['d', 'events_timeless'],
      ],
    );
    assert.equal(
      JSON.parse((await pool.query('SELECT raw FROM events WHERE digest = $1', ['a'])).rows[0].raw)
        .argv,
      hostile,
    );

    // drizzle wraps the driver's error; its cause carries PostgreSQL's unique_violation.
    await assert.rejects(
      db.insert(events).values(rows[0]!),
      (error: Error) => (error.cause as { code?: string } | undefined)?.code === '23505',
    );
    await assert.rejects(
      pool.query('SELECT proctrail_event_partition($1)', ['yesterday']),
      /not in the sortable UTC form/,
    );

    // A cut inside 2 December keeps that day whole; one at its start drops 1 December only.
    const dropped = await pool.query<{ name: string }>(
      'SELECT proctrail_drop_event_partitions_before($1) AS name',
      ['2026-12-02T00:00:00.000000000Z'],
    );
    assert.deepEqual(
      dropped.rows.map((r) => r.name),
      ['events_20261201'],
    );
    await assert.rejects(
      pool.query('SELECT proctrail_drop_event_partitions_before($1)', ['soon']),
      /not in the sortable UTC form/,
    );
    const again = await pool.query('SELECT proctrail_drop_event_partitions_before($1)', [
      '2026-12-02T12:00:00.000000000Z',
    ]);
    assert.equal(again.rowCount, 0);
    const left = await pool.query('SELECT digest FROM events ORDER BY digest');
    assert.deepEqual(
      left.rows.map((r) => r.digest),
      ['c', 'd'],
    );
  });
});
