/**
 * Which partitioning the PostgreSQL store picks for events. The server here has no
 * TimescaleDB (Debian 12 does not package it), so the real server is asked only about the
 * declarative branch and the fall-back to it when the hypertable cannot be made; the choice
 * itself is a pure function tested for every case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseTetragonEvent } from '@proctrail/schema';
import { startTestPostgres, type TestPostgres } from '../../testing/postgres';
import { chooseEventPartitioning, makeHypertable, partitioningFacts } from './partitioning';
import { PostgresStore } from './postgres-store';

describe('event partitioning: TimescaleDB hypertable where offered, declarative otherwise', () => {
  test('a hypertable is made only on an empty store of a server that offers TimescaleDB', () => {
    const facts = (timescaledbAvailable: boolean, eventsEmpty: boolean) => ({
      timescaledbAvailable,
      eventsIsHypertable: false,
      eventsEmpty,
    });
    assert.equal(chooseEventPartitioning(facts(true, true)), 'hypertable');
    assert.equal(chooseEventPartitioning(facts(true, false)), 'declarative');
    assert.equal(chooseEventPartitioning(facts(false, true)), 'declarative');
    assert.equal(chooseEventPartitioning(facts(false, false)), 'declarative');
    assert.equal(
      chooseEventPartitioning({
        timescaledbAvailable: true,
        eventsIsHypertable: true,
        eventsEmpty: false,
      }),
      'hypertable',
    );
  });

  describe('on a server without TimescaleDB', () => {
    let postgres: TestPostgres;
    let store: PostgresStore;

    before(async () => {
      postgres = await startTestPostgres();
      store = await PostgresStore.open(postgres.url);
    });
    after(async () => {
      await store?.close();
      postgres?.stop();
    });

    test('the server is seen to lack the extension and events stay declaratively partitioned', async () => {
      const available = await store.pool.query(
        `SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'timescaledb'`,
      );
      assert.equal(available.rows[0].n, 0, 'this test assumes a server without TimescaleDB');
      assert.deepEqual(await partitioningFacts(store.pool), {
        timescaledbAvailable: false,
        eventsIsHypertable: false,
        eventsEmpty: true,
      });
      assert.equal(store.partitioning, 'declarative');
      const kind = await store.pool.query(`SELECT relkind FROM pg_class WHERE relname = 'events'`);
      assert.equal(kind.rows[0].relkind, 'p');
    });

    test('a hypertable that cannot be made leaves the declarative partitions, with a warning', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      const client = await store.pool.connect();
      try {
        // Here CREATE EXTENSION fails: the conversion's first statement, as a real failure.
        assert.equal(await makeHypertable(client), 'declarative');
      } finally {
        client.release();
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      process.off('warning', onWarning);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!.message, /declarative day partitions: .*timescaledb/);
      const kind = await store.pool.query(`SELECT relkind FROM pg_class WHERE relname = 'events'`);
      assert.equal(kind.rows[0].relkind, 'p');
      const timeless = await store.pool.query(
        `SELECT count(*)::int AS n FROM pg_partition_tree('events') WHERE relid = 'events_timeless'::regclass`,
      );
      assert.equal(timeless.rows[0].n, 1, 'the time-less partition is still attached');
    });

    test('an event of a new day gets its day partition, and the store is no longer empty', async () => {
      const raw = {
        process_exec: { process: { exec_id: 'eA==', pid: 7, binary: '/bin/true' } },
        node_name: 'n',
        time: '2026-03-04T05:06:07.000000000Z',
      };
      const parsed = parseTetragonEvent(raw);
      assert.ok(parsed.ok);
      const source = await store.source('partitioning', 'import');
      assert.equal((await store.write(source, [{ parsed: parsed.parsed, raw }])).stored, 1);
      const placed = await store.pool.query('SELECT tableoid::regclass::text AS t FROM events');
      assert.deepEqual(
        placed.rows.map((r: { t: string }) => r.t),
        ['events_20260304'],
      );
      assert.equal((await partitioningFacts(store.pool)).eventsEmpty, false);
      // Opening the store again keeps what it has.
      const again = await PostgresStore.open(postgres.url);
      assert.equal(again.partitioning, 'declarative');
      await again.close();
    });
  });
});
