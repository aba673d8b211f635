/**
 * The API's detection tests, shared by the stores: a real server on a loopback port over a
 * store, with a detection bus, and detection.list's cases (detection.test.ts runs them on
 * SQLite, detection-list.postgres.test.ts on PostgreSQL).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { TRPCClientError } from '@trpc/client';
import {
  execIdFor,
  toSortableTime,
  type Detection,
  type DetectionSeverity,
} from '@proctrail/schema';
import { DetectionBus } from '../detection/detection-bus';
import type { Finding } from '../detection/engine';
import { LiveBus } from '../live/live-bus';
import { createAgentMetrics } from '../metrics/metrics';
import type { Store } from '../store/types';
import { createApiClient, type ApiClient } from './client';
import { startApiServer, type ApiServer } from './server';

/** A store for one server, and how to remove what it leaves behind. */
export interface TestStore {
  store: Store;
  remove: () => void;
}

export async function startServer(openStore: () => Promise<TestStore>) {
  const { store, remove } = await openStore();
  const registry = new Registry();
  const metrics = createAgentMetrics(registry);
  const bus = new LiveBus({ store, metrics });
  const detections = new DetectionBus();
  const server: ApiServer = await startApiServer({
    store,
    bus,
    detections,
    registry,
    listen: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
  });
  const clients: ApiClient[] = [];
  return {
    store,
    detections,
    metrics,
    client() {
      const client = createApiClient({ url: server.url });
      clients.push(client);
      return client.trpc;
    },
    async close() {
      for (const client of clients) await client.close();
      detections.close();
      bus.close();
      await server.close();
      await store.close();
      remove();
    },
  };
}

const at = (clock: string) => toSortableTime(`2026-02-01T${clock}Z`)!;

function finding(
  n: number,
  rule: string,
  severity: DetectionSeverity,
  node: string,
  clock: string,
  pid = 100 + n,
): Finding {
  return {
    rule,
    severity,
    title: `${rule} title`,
    execId: execIdFor(node, BigInt(pid) * 1000n, pid),
    pid,
    binary: `/usr/bin/tool${n}`,
    nodeName: node,
    time: at(clock),
    ancestors: [{ execId: execIdFor(node, 1000n, 1), pid: 1, binary: '/sbin/init' }],
    evidenceEventIds: [n],
    explanation: `finding ${n}`,
    dedupeKey: '',
  };
}

/** detection.list's filters and pages over a real server, on the store `openStore` opens. */
export function describeDetectionList(label: string, openStore: () => Promise<TestStore>): void {
  describe(`detection.list over HTTP (${label})`, () => {
    let api: Awaited<ReturnType<typeof startServer>>;
    /** Stored detections by the number of the finding they came from. */
    const stored = new Map<number, Detection>();

    before(async () => {
      api = await startServer(openStore);
      const source = await api.store.source('agent:node-a', 'agent');
      const findings = [
        finding(1, 'shell-in-workload', 'medium', 'node-a', '10:00:00'),
        finding(2, 'reverse-shell', 'critical', 'node-a', '10:05:00'),
        finding(3, 'late-exec', 'low', 'node-b', '10:10:00'),
        finding(4, 'shell-in-workload', 'high', 'node-b', '10:15:00'),
        // The same process as finding 2, found by another rule later.
        finding(5, 'sensitive-file-read', 'high', 'node-a', '10:20:00', 102),
      ];
      const created = await api.store.saveDetections(source, findings);
      assert.equal(created.length, 5);
      created.forEach((detection, i) => stored.set(i + 1, detection));
    });
    after(() => api.close());

    /** The finding numbers a query lists, in the order it lists them. */
    async function listed(
      input: Parameters<ReturnType<typeof api.client>['detection']['list']['query']>[0],
    ) {
      const detections = await api.client().detection.list.query(input);
      return detections.map((d) => [...stored].find(([, s]) => s.id === d.id)![0]);
    }

    test('without filters it lists every detection, newest first, as they were stored', async () => {
      assert.deepEqual(await listed({}), [5, 4, 3, 2, 1]);
      const all = await api.client().detection.list.query({});
      assert.deepEqual(all.at(-1), stored.get(1), 'what saving returned is what the list reads');
    });

    test('severity keeps one severity; minSeverity keeps it and those above', async () => {
      assert.deepEqual(await listed({ severity: 'high' }), [5, 4]);
      assert.deepEqual(await listed({ minSeverity: 'high' }), [5, 4, 2]);
      assert.deepEqual(await listed({ minSeverity: 'low' }), [5, 4, 3, 2, 1]);
      assert.deepEqual(await listed({ severity: 'critical', minSeverity: 'low' }), [2]);
    });

    test('rule, exec_id and node each narrow the list, and combine', async () => {
      assert.deepEqual(await listed({ rule: 'shell-in-workload' }), [4, 1]);
      assert.deepEqual(await listed({ execId: stored.get(2)!.execId }), [5, 2]);
      assert.deepEqual(await listed({ node: 'node-b' }), [4, 3]);
      assert.deepEqual(await listed({ rule: 'shell-in-workload', node: 'node-a' }), [1]);
      assert.deepEqual(await listed({ rule: 'no-such-rule' }), []);
    });

    test('since and until bound the time range, both ends included, in any zone', async () => {
      assert.deepEqual(
        await listed({ since: '2026-02-01T10:05:00Z', until: '2026-02-01T10:15:00Z' }),
        [4, 3, 2],
      );
      assert.deepEqual(await listed({ since: '2026-02-01T10:15:00.000000001Z' }), [5]);
      assert.deepEqual(await listed({ until: '2026-02-01T11:00:00+01:00' }), [1]);
    });

    test('limit keeps the newest', async () => {
      assert.deepEqual(await listed({ limit: 2 }), [5, 4]);
      assert.deepEqual(await listed({ minSeverity: 'medium', limit: 3 }), [5, 4, 2]);
    });

    test('pages follow one another with before, the last of each page, with no gap or repeat', async () => {
      const trpc = api.client();
      const pages: number[][] = [];
      let before: { time: string; id: number } | undefined;
      for (let page = 0; page < 10; page++) {
        const detections = await trpc.detection.list.query({ limit: 2, before });
        if (detections.length === 0) break;
        pages.push(detections.map((d) => [...stored].find(([, s]) => s.id === d.id)![0]));
        const last = detections.at(-1)!;
        before = { time: last.time, id: last.id };
      }
      assert.deepEqual(pages, [[5, 4], [3, 2], [1]]);

      const last = stored.get(4)!;
      const filtered = { minSeverity: 'high' as const, before: { time: last.time, id: last.id } };
      assert.deepEqual(await listed(filtered), [2], 'paging keeps the filters');
    });

    test('detections of one instant page by id', async () => {
      const trpc = api.client();
      const source = await api.store.source('agent:node-c', 'agent');
      const sameInstant = [7, 8, 9].map((n) =>
        finding(n, 'late-exec', 'low', 'node-c', '09:00:00'),
      );
      const created = await api.store.saveDetections(source, sameInstant);
      const ids = created.map((d) => d.id).sort((a, b) => b - a);
      const first = await trpc.detection.list.query({ node: 'node-c', limit: 2 });
      assert.deepEqual(
        first.map((d) => d.id),
        ids.slice(0, 2),
      );
      const { time, id } = first.at(-1)!;
      const rest = await trpc.detection.list.query({ node: 'node-c', before: { time, id } });
      assert.deepEqual(
        rest.map((d) => d.id),
        ids.slice(2),
      );
    });

    test('an unknown severity, a bad time or a zero limit is refused as BAD_REQUEST', async () => {
      const trpc = api.client();
      for (const input of [{ severity: 'urgent' }, { since: 'yesterday' }, { limit: 0 }] as Array<
        Record<string, unknown>
      >) {
        await assert.rejects(
          trpc.detection.list.query(input as never),
          (error: unknown) =>
            error instanceof TRPCClientError && error.data?.code === 'BAD_REQUEST',
          JSON.stringify(input),
        );
      }
    });
  });
}
