import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { parseTetragonEvent } from '@proctrail/schema';
import type { IngestItem } from '../store/types';
import { startFixture, type ApiFixture } from './testing';

/** A distinct exec event per number, so every write stores a new event. */
function execItem(n: number): IngestItem {
  const raw = {
    node_name: 'live-test',
    time: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(9, '0')}Z`,
    process_exec: {
      process: {
        exec_id: Buffer.from(`live-test:${n}:${1000 + n}`).toString('base64'),
        pid: 1000 + n,
        binary: n % 2 ? '/usr/bin/odd' : '/usr/bin/even',
        arguments: `run ${n}`,
      },
    },
  };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok);
  return { parsed: outcome.parsed, raw };
}

interface Received {
  ids: number[];
  error?: Error & { data?: { reason?: string | null } };
  stop(): void;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * event.live's cases on the store `newPostgresUrl` names: a new PostgreSQL database for each
 * fixture, or (undefined) a SQLite file.
 */
export function describeLive(
  store: string,
  newPostgresUrl: () => Promise<string | undefined>,
): void {
  describe(`event.live over a WebSocket (${store})`, () => {
    let fixture: ApiFixture;
    afterEach(() => fixture.close());

    async function writeAndPublish(from: number, count: number): Promise<number[]> {
      const source = await fixture.store.source('live', 'agent');
      const items = Array.from({ length: count }, (_, i) => execItem(from + i));
      const written = await fixture.store.write(source, items);
      fixture.bus.publish(written.events);
      return written.events.map((e) => e.id);
    }

    function follow(input: Record<string, unknown>, token?: string): Received {
      const { trpc } = fixture.client(token);
      const received: Received = { ids: [], stop: () => {} };
      const subscription = trpc.event.live.subscribe(input, {
        onData: ({ id, data }) => {
          assert.equal(id, String(data.id));
          received.ids.push(data.id);
        },
        onError: (error) => (received.error = error as Received['error']),
      });
      received.stop = () => subscription.unsubscribe();
      return received;
    }

    test('a subscriber receives the events written and published while it is subscribed', async () => {
      fixture = await startFixture({ postgresUrl: await newPostgresUrl() });
      const live = follow({});
      const odd = follow({ binary: 'odd' });
      await until(() => fixture.bus.subscriberCount === 2, 'two subscribers');
      const ids = await writeAndPublish(1, 6);
      await until(() => live.ids.length === 6 && odd.ids.length === 3, 'six and three events');
      assert.deepEqual(live.ids, ids);
      assert.deepEqual(odd.ids, [ids[0], ids[2], ids[4]]);
    });

    async function resumeAfterGap(ringSize: number): Promise<void> {
      fixture = await startFixture({
        postgresUrl: await newPostgresUrl(),
        bus: { ringSize, pageSize: 3 },
      });
      const first = follow({});
      await until(() => fixture.bus.subscriberCount === 1, 'a subscriber');
      const before = await writeAndPublish(1, 4);
      await until(() => first.ids.length === 4, 'the first four events');
      first.stop();
      await until(() => fixture.bus.subscriberCount === 0, 'the unsubscribe');

      const missed = await writeAndPublish(5, 10);
      const resumed = follow({ lastEventId: String(first.ids.at(-1)) });
      await until(() => resumed.ids.length === missed.length, 'the missed events');
      await until(() => fixture.bus.subscriberCount === 1, 'the resumed subscriber to go live');
      const later = await writeAndPublish(15, 2);
      await until(() => resumed.ids.length === missed.length + later.length, 'the later events');
      // Exactly what was missed, then what came later: no gap, no repeat.
      assert.deepEqual(resumed.ids, [...missed, ...later]);
      assert.ok(before.every((id) => !resumed.ids.includes(id)));
    }

    test('a subscriber reconnecting with lastEventId receives exactly the events it missed', () =>
      resumeAfterGap(1000));

    test('the missed events come from the store when the gap is older than the ring buffer', () =>
      resumeAfterGap(4));

    test('resuming with a filter from the store yields only matching events', async () => {
      fixture = await startFixture({
        postgresUrl: await newPostgresUrl(),
        bus: { ringSize: 2, pageSize: 2 },
      });
      const ids = await writeAndPublish(1, 9);
      const odd = follow({ binary: 'odd', lastEventId: String(ids[0]) });
      await until(() => odd.ids.length === 4, 'four odd events');
      assert.deepEqual(odd.ids, [ids[2], ids[4], ids[6], ids[8]]);
    });

    test('a slow subscriber is dropped with SLOW_CONSUMER while the publisher never waits', async () => {
      fixture = await startFixture({ postgresUrl: await newPostgresUrl(), bus: { queueLimit: 5 } });
      // Subscribed directly on the bus and never read: the slowest consumer there is.
      const stalled = fixture.bus.subscribe({ filters: {}, match: () => true });
      const pending = stalled.next();
      await until(() => fixture.bus.subscriberCount === 1, 'the stalled subscriber');

      const started = process.hrtime.bigint();
      await writeAndPublish(1, 50);
      const publishMs = Number(process.hrtime.bigint() - started) / 1e6;
      assert.equal(fixture.bus.subscriberCount, 0);
      assert.ok(publishMs < 1000, `publishing took ${publishMs} ms`);
      await assert.rejects(pending, /SLOW_CONSUMER/);
      const metrics =
        await fixture.metrics.registry.getSingleMetricAsString('proctrail_dropped_total');
      assert.match(metrics, /proctrail_dropped_total\{reason="live_slow_consumer"\} 1/);
    });

    test('a WebSocket client that falls behind sees the SLOW_CONSUMER reason', async () => {
      fixture = await startFixture({ postgresUrl: await newPostgresUrl(), bus: { queueLimit: 3 } });
      const client = follow({});
      await until(() => fixture.bus.subscriberCount === 1, 'a subscriber');
      // Published in one synchronous burst: the server cannot send between the events.
      const source = await fixture.store.source('live', 'agent');
      const written = await fixture.store.write(
        source,
        Array.from({ length: 20 }, (_, i) => execItem(i)),
      );
      fixture.bus.publish(written.events);
      await until(() => client.error !== undefined, 'the error');
      assert.match(client.error!.message, /SLOW_CONSUMER/);
      assert.equal(client.error!.data?.reason, 'SLOW_CONSUMER');
    });
  });
}
