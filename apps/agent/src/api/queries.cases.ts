import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TRPCClientError } from '@trpc/client';
import type { ProcessTreeNode } from '@proctrail/schema';
import { fixtureForTests } from './testing';

function flatten(nodes: ProcessTreeNode[]): ProcessTreeNode[] {
  return nodes.flatMap((n) => [n, ...flatten(n.children)]);
}

export function describeApiQueries(store: string, postgresUrl: () => string | undefined): void {
  describe(`the API over an imported corpus file (${store})`, () => {
    const fixture = fixtureForTests(() => ({
      postgresUrl: postgresUrl(),
      corpus: ['book-process-lifecycle.jsonl'],
    }));

    test('process.search by binary finds nc, and pages with a cursor', async () => {
      const { trpc } = fixture().client();
      const found = await trpc.process.search.query({ binary: 'nc' });
      assert.deepEqual(
        found.items.map((p) => p.binary),
        ['/usr/bin/nc'],
      );
      assert.equal(found.nextCursor, null);

      const first = await trpc.process.search.query({ limit: 2 });
      assert.equal(first.items.length, 2);
      assert.equal(first.nextCursor, 2);
      const rest = await trpc.process.search.query({ limit: 100, cursor: first.nextCursor! });
      const all = await trpc.process.search.query({});
      assert.deepEqual(
        [...first.items, ...rest.items].map((p) => p.exec_id),
        all.items.map((p) => p.exec_id),
      );
    });

    test('process.tree of sh lifecycle.sh holds cat and nc, with nc connecting to 64.225.45.153:443', async () => {
      const { trpc } = fixture().client();
      const [sh] = (await trpc.process.search.query({ binary: '/usr/bin/sh' })).items;
      assert.equal(sh?.arguments, 'lifecycle.sh');
      const tree = await trpc.process.tree.query({ execId: sh.exec_id, maxDepth: 5 });
      const below = flatten(tree.children);
      assert.deepEqual(below.map((n) => n.binary).sort(), ['/usr/bin/cat', '/usr/bin/nc']);
      const nc = below.find((n) => n.binary === '/usr/bin/nc')!;
      assert.ok(
        nc.network.some(
          (e) => e.type === 'connect' && e.daddr === '64.225.45.153' && e.dport === 443,
        ),
      );
      assert.equal(tree.omittedDescendants, 0);

      const cut = await trpc.process.tree.query({ execId: sh.exec_id, maxDepth: 0 });
      assert.equal(cut.children.length, 0);
      assert.equal(cut.omittedDescendants, 2);
    });

    test('process.get and process.ancestry answer for one exec_id, and name a missing one', async () => {
      const { trpc } = fixture().client();
      const [nc] = (await trpc.process.search.query({ binary: 'nc' })).items;
      const got = await trpc.process.get.query({ execId: nc!.exec_id });
      assert.equal(got.binary, '/usr/bin/nc');
      assert.equal(got.source, 'corpus');
      const ancestry = await trpc.process.ancestry.query({ execId: nc!.exec_id, source: 'corpus' });
      assert.equal(ancestry.process.exec_id, nc!.exec_id);
      assert.equal(ancestry.ancestors.at(-1)?.binary, '/usr/bin/sh');

      await assert.rejects(trpc.process.get.query({ execId: 'bm8tc3VjaA==' }), (error) => {
        assert.ok(error instanceof TRPCClientError);
        assert.equal(error.data?.code, 'NOT_FOUND');
        assert.match(error.message, /bm8tc3VjaA==/);
        return true;
      });
    });

    test('event.list returns the Tetragon JSON of a process, by kind and in pages', async () => {
      const { trpc } = fixture().client();
      const [nc] = (await trpc.process.search.query({ binary: 'nc' })).items;
      const all = await trpc.event.list.query({ execId: nc!.exec_id });
      assert.deepEqual(
        all.items.map((e) => e.kind),
        ['process_exec', 'process_connect', 'process_close', 'process_exit'],
      );
      assert.equal(all.items[0]!.event.process_exec?.process?.binary, '/usr/bin/nc');
      assert.ok(all.items.every((e, i) => i === 0 || e.id > all.items[i - 1]!.id));

      const exits = await trpc.event.list.query({ kinds: ['process_exit'] });
      assert.equal(exits.items.length, 3);
      const page = await trpc.event.list.query({ limit: 4 });
      const next = await trpc.event.list.query({ limit: 100, cursor: page.nextCursor! });
      assert.equal(page.items.length + next.items.length, 9);
      assert.equal(next.nextCursor, null);

      const byIp = await trpc.event.list.query({ ip: '64.225.45.153' });
      assert.equal(byIp.items.length, 2);
      const late = await trpc.event.list.query({ since: '2030-01-01T00:00:00Z' });
      assert.equal(late.items.length, 0);
    });

    test('stats.summary counts events by kind, binary and node, and says nothing was lost without a sensor', async () => {
      const { trpc } = fixture().client();
      const stats = await trpc.stats.summary.query({ topBinaries: 2 });
      assert.equal(stats.events, 9);
      assert.deepEqual(stats.byKind, {
        process_close: 1,
        process_connect: 1,
        process_exec: 3,
        process_exit: 3,
        process_kprobe: 1,
      });
      assert.equal(stats.byBinary.length, 2);
      assert.deepEqual(stats.byBinary[0], { binary: '/usr/bin/nc', events: 4 });
      assert.equal(stats.executions >= 3, true);
      assert.equal(stats.lost, null);
      assert.ok(stats.lastEventTime);
    });

    test('detection.list is empty until rules exist', async () => {
      const { trpc } = fixture().client();
      assert.deepEqual(await trpc.detection.list.query({}), []);
    });

    test('a bad input is HTTP 400 whose message names the field', async () => {
      const response = await fetch(
        `${fixture().server.url}/trpc/process.search?input=${encodeURIComponent(JSON.stringify({ limit: 0 }))}`,
      );
      assert.equal(response.status, 400);
      const body = (await response.json()) as {
        error: { message: string; data: { fields: string[]; stack?: string } };
      };
      assert.match(body.error.message, /^limit: /);
      assert.deepEqual(body.error.data.fields, ['limit']);
      assert.equal(body.error.data.stack, undefined, 'no server stack trace in the answer');

      const { trpc } = fixture().client();
      await assert.rejects(
        trpc.event.list.query({ kinds: ['process_nonsense' as 'process_exec'] }),
        (error) => {
          assert.ok(error instanceof TRPCClientError);
          assert.equal(error.data?.httpStatus, 400);
          assert.match(error.message, /kinds\.0: /);
          return true;
        },
      );
    });
  });
}
