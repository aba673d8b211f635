import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { TRPCClientError } from '@trpc/client';
import {
  execIdFor,
  parseTetragonEvent,
  toSortableTime,
  type Detection,
  type DetectionSeverity,
  type TetragonProcess,
} from '@proctrail/schema';
import { DetectionBus } from '../detection/detection-bus';
import { Detector, storeAncestry } from '../detection/detector';
import { DetectionEngine, type Finding } from '../detection/engine';
import { announce } from '../detection/live-detections';
import { loadRulesDir } from '../detection/load-rules';
import { LiveBus } from '../live/live-bus';
import { createAgentMetrics } from '../metrics/metrics';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { IngestItem, SourceInfo } from '../store/types';
import { scratchDir } from '../testing/harness';
import { createApiClient, type ApiClient } from './client';
import { startApiServer, type ApiServer } from './server';

/** A real server on a loopback port over a real SQLite file, with a detection bus. */
async function startServer() {
  const scratch = scratchDir();
  const store = SqliteStore.open(scratch.db());
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
      scratch.remove();
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

describe('detection.list over HTTP', () => {
  let api: Awaited<ReturnType<typeof startServer>>;
  /** Stored detections by the number of the finding they came from. */
  const stored = new Map<number, Detection>();

  before(async () => {
    api = await startServer();
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
    const sameInstant = [7, 8, 9].map((n) => finding(n, 'late-exec', 'low', 'node-c', '09:00:00'));
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
        (error: unknown) => error instanceof TRPCClientError && error.data?.code === 'BAD_REQUEST',
        JSON.stringify(input),
      );
    }
  });
});

let nextPid = 4000;
function proc(binary: string, parent?: TetragonProcess, fields: Partial<TetragonProcess> = {}) {
  const pid = nextPid++;
  const process: TetragonProcess = {
    exec_id: execIdFor('node-live', BigInt(pid) * 1000n, pid),
    pid,
    uid: 0,
    binary,
    arguments: '',
    flags: 'execve clone',
    start_time: '2026-02-01T12:00:00Z',
    ...fields,
  };
  if (parent) process.parent_exec_id = parent.exec_id;
  return process;
}

function execItem(process: TetragonProcess, parent?: TetragonProcess): IngestItem {
  const raw = {
    process_exec: { process, ...(parent ? { parent } : {}) },
    node_name: 'node-live',
    time: process.start_time,
  };
  const outcome = parseTetragonEvent(raw);
  assert.ok(outcome.ok);
  return { parsed: outcome.parsed, raw };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('detection.live over a WebSocket', () => {
  let api: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    api = await startServer();
  });
  after(() => api.close());

  function follow(input: { minSeverity?: DetectionSeverity; rule?: string }) {
    const received: Detection[] = [];
    const subscription = api.client().detection.live.subscribe(input, {
      onData: ({ id, data }) => {
        assert.equal(id, String(data.id), 'each detection is tracked by its store id');
        received.push(data);
      },
    });
    return { received, stop: () => subscription.unsubscribe() };
  }

  async function detect(source: SourceInfo, items: IngestItem[]): Promise<Detection[]> {
    const detector = new Detector(new DetectionEngine(loadRulesDir().rules), api.store, {
      onDetections: (detections) => announce(detections, api.detections, api.metrics),
    });
    const result = await api.store.write(source, items);
    return detector.afterWrite(source, items, result, storeAncestry(api.store, source));
  }

  test('subscribers receive the detections stored while they listen, filtered by severity and rule', async () => {
    const everything = follow({});
    const critical = follow({ minSeverity: 'critical' });
    const underServer = follow({ rule: 'shell-under-server-runtime' });
    await until(() => api.detections.subscribers === 3, 'three subscribers');

    const source = await api.store.source('agent:node-live', 'agent');
    const java = proc('/usr/bin/java');
    const stdio = [{ fd: 0, family: 'AF_INET', peer_address: '203.0.113.7', peer_port: 4444 }];
    const shell = proc('/bin/sh', java, { stdio_sockets: stdio });
    const created = await detect(source, [execItem(java), execItem(shell, java)]);
    const rules = created.map((d) => d.rule).sort();
    assert.deepEqual(rules, ['reverse-shell', 'shell-under-server-runtime']);

    await until(() => everything.received.length === 2, 'both detections');
    await until(() => critical.received.length === 1, 'the critical one');
    await until(() => underServer.received.length === 1, 'the rule one');
    // Time for anything the filters should have held back to arrive anyway.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(critical.received.length, 1);
    assert.equal(underServer.received.length, 1);
    assert.deepEqual(everything.received.map((d) => d.id).sort(), created.map((d) => d.id).sort());
    assert.equal(critical.received[0]!.rule, 'reverse-shell');
    assert.equal(underServer.received[0]!.execId, shell.exec_id);
    assert.match(underServer.received[0]!.explanation, /started by java/);

    // What was streamed is what detection.list reads back from the store.
    const listed = await api.client().detection.list.query({ execId: shell.exec_id });
    const byId = (a: Detection, b: Detection) => a.id - b.id;
    assert.deepEqual([...everything.received].sort(byId), [...listed].sort(byId));

    // A detection found again (the same rule and process) is neither stored nor streamed.
    const again = await detect(source, [execItem(shell, java)]);
    assert.deepEqual(again, []);
    for (const subscriber of [everything, critical, underServer]) subscriber.stop();
    await until(() => api.detections.subscribers === 0, 'the unsubscribes');
    assert.equal(everything.received.length, 2);
  });
});
