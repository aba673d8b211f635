import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixtureForTests } from './testing';

// book-process-lifecycle.jsonl: sh runs cat (exec .404, .410, exit .411) then nc, which
// connects at .419 and closes at 57.724; every process exits by 57.726 (all 2022-02-01T18:01).
export function describeStatsRange(store: string, postgresUrl: () => string | undefined): void {
  describe(`stats.summary over a time range (${store})`, () => {
    const fixture = fixtureForTests(() => ({
      postgresUrl: postgresUrl(),
      corpus: ['book-process-lifecycle.jsonl'],
    }));

    test('counts only the events whose time is in the range, by kind, binary and node', async () => {
      const { trpc } = fixture().client();
      const stats = await trpc.stats.summary.query({
        since: '2022-02-01T18:01:56.412Z',
        until: '2022-02-01T18:01:57.724Z',
      });
      assert.equal(stats.events, 2);
      assert.deepEqual(stats.byKind, { process_close: 1, process_connect: 1 });
      assert.deepEqual(stats.byBinary, [{ binary: '/usr/bin/nc', events: 2 }]);
      // Two events over the 1.3 s range: a span under a minute counts as one.
      assert.deepEqual(stats.byNode, [
        {
          node: 'minikube',
          events: 2,
          lastEventTime: '2022-02-01T18:01:57.724000000Z',
          eventsPerMinute: 2,
        },
      ]);
      assert.equal(stats.unattributed, 0);
    });

    test('counts the executions started in the range, and nothing after the last event', async () => {
      const { trpc } = fixture().client();
      const all = await trpc.stats.summary.query({});
      const from = await trpc.stats.summary.query({ since: '2022-02-01T18:01:56.405Z' });
      assert.equal(all.events, 9);
      assert.ok(from.executions >= 1 && from.executions < all.executions, `${from.executions}`);
      assert.equal(from.events, 8, 'all but the exec of sh');

      const later = await trpc.stats.summary.query({ since: '2030-01-01T00:00:00Z' });
      assert.deepEqual(
        [later.events, later.executions, later.placeholders, later.byBinary, later.byKind],
        [0, 0, 0, [], {}],
      );
      // The last event is the store's, whatever the range.
      assert.equal(later.lastEventTime, all.lastEventTime);
    });

    test('a malformed bound is refused with the field named', async () => {
      const { trpc } = fixture().client();
      await assert.rejects(trpc.stats.summary.query({ since: 'yesterday' }), /since/);
    });
  });
}
