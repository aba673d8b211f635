import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  execIdFor,
  parseTetragonEvent,
  type Detection,
  type DetectionSeverity,
  type TetragonProcess,
} from '@proctrail/schema';
import { Detector, storeAncestry } from '../detection/detector';
import { DetectionEngine } from '../detection/engine';
import { announce } from '../detection/live-detections';
import { loadRulesDir } from '../detection/load-rules';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import type { IngestItem, SourceInfo } from '../store/types';
import { scratchDir } from '../testing/harness';
import { describeDetectionList, startServer, type TestStore } from './detection-list.cases';

/** A SQLite file in a directory of its own. */
async function sqliteStore(): Promise<TestStore> {
  const scratch = scratchDir();
  return { store: SqliteStore.open(scratch.db()), remove: () => scratch.remove() };
}

describeDetectionList('SQLite', sqliteStore);

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
    api = await startServer(sqliteStore);
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
