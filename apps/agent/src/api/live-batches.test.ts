import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, test } from 'node:test';
import { parseTetragonEvent, type ApiEvent } from '@proctrail/schema';
import WebSocket from 'ws';
import type { IngestItem } from '../store/types';
import { createApiClient, webSocketUrl, type ApiClient } from './client';
import { startFixture, type ApiFixture } from './testing';

function execItem(n: number): IngestItem {
  const raw = {
    node_name: 'batch-test',
    time: `2026-01-01T00:01:${String(n % 60).padStart(2, '0')}.${String(n).padStart(9, '0')}Z`,
    process_exec: {
      process: {
        exec_id: Buffer.from(`batch-test:${n}:${2000 + n}`).toString('base64'),
        pid: 2000 + n,
        binary: n % 2 ? '/usr/bin/odd' : '/usr/bin/even',
        arguments: `run "quoted" \\ ${n}`,
      },
    },
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

/** The tRPC messages of one subscription, as a raw WebSocket client receives them. */
interface RawSubscription {
  data: Array<{ id?: string; data: unknown }>;
  close(): void;
}

function rawSubscribe(url: string, path: string, input: object): Promise<RawSubscription> {
  const socket = new WebSocket(webSocketUrl(url));
  const received: RawSubscription = { data: [], close: () => socket.close() };
  socket.on('message', (text: Buffer) => {
    const message = JSON.parse(text.toString()) as { result?: { type: string; id?: string } };
    if (message.result?.type === 'data') {
      received.data.push(
        (message.result as unknown as { data: { id?: string; data: unknown } }).data,
      );
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => {
      socket.send(JSON.stringify({ id: 1, method: 'subscription', params: { path, input } }));
      resolve(received);
    });
  });
}

/**
 * A loopback TCP relay in front of the API whose connections the test can cut, as a network
 * drop would: the client sees its socket close and reconnects by itself.
 */
async function startRelay(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(target.port, target.host);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('event.liveBatches and the client link that unpacks them', () => {
  let fixture: ApiFixture;
  afterEach(() => fixture.close());

  async function writeAndPublish(from: number, count: number) {
    const source = await fixture.store.source('batches', 'agent');
    const items = Array.from({ length: count }, (_, i) => execItem(from + i));
    const written = await fixture.store.write(source, items);
    fixture.bus.publish(written.events);
    return written.events;
  }

  test('events published together leave in one message, tracked by the last id', async () => {
    fixture = await startFixture();
    const batches = await rawSubscribe(fixture.server.url, 'event.liveBatches', {});
    const single = await rawSubscribe(fixture.server.url, 'event.live', {});
    await until(() => fixture.bus.subscriberCount === 2, 'two subscribers');
    const stored = await writeAndPublish(1, 300);
    await until(() => single.data.length === 300, 'three hundred single messages');
    await until(() => batches.data.length > 0, 'a batch');
    batches.close();
    single.close();

    // One publish of 300 events: a single batch message, against 300 for event.live.
    assert.equal(batches.data.length, 1);
    const batch = batches.data[0]!;
    assert.equal(batch.id, String(stored.at(-1)!.id));
    const events = JSON.parse((batch.data as { events: string }).events) as ApiEvent[];
    assert.deepEqual(
      events.map((event) => event.id),
      stored.map((event) => event.id),
    );
    // The batch holds the very events event.live sends one by one.
    assert.deepEqual(
      events,
      single.data.map((message) => message.data),
    );
    assert.equal(
      (events[1]!.event as { process_exec: { process: { arguments: string } } }).process_exec
        .process.arguments,
      'run "quoted" \\ 2',
    );
  });

  test('the link hands event.live subscribers one event per onData, each with its id', async () => {
    fixture = await startFixture();
    const { trpc } = fixture.client();
    const received: ApiEvent[] = [];
    const subscription = trpc.event.live.subscribe(
      { binary: 'odd' },
      {
        onData: ({ id, data }) => {
          assert.equal(id, String(data.id));
          received.push(data);
        },
      },
    );
    await until(() => fixture.bus.subscriberCount === 1, 'a subscriber');
    const stored = await writeAndPublish(1, 10);
    await until(() => received.length === 5, 'five odd events');
    subscription.unsubscribe();
    assert.deepEqual(
      received.map((event) => event.id),
      stored.filter((_, i) => i % 2 === 0).map((event) => event.id),
    );
    assert.equal(received[0]!.kind, 'process_exec');
  });

  test('after a dropped connection the link resumes after the last batch, no gap, no repeat', async () => {
    fixture = await startFixture({ bus: { ringSize: 1000 } });
    const relay = await startRelay({ host: fixture.server.host, port: fixture.server.port });
    let client: ApiClient | undefined;
    try {
      client = createApiClient({ url: relay.url, retryDelayMs: () => 50 });
      const received: number[] = [];
      const subscription = client.trpc.event.live.subscribe(
        {},
        { onData: ({ data }) => received.push(data.id) },
      );
      await until(() => fixture.bus.subscriberCount === 1, 'a subscriber');
      const first = await writeAndPublish(1, 50);
      await until(() => received.length === 50, 'the first fifty');

      relay.cut();
      await until(() => fixture.bus.subscriberCount === 0, 'the server to see the drop');
      const missed = await writeAndPublish(51, 70);
      await until(() => fixture.bus.subscriberCount === 1, 'the reconnect');
      const later = await writeAndPublish(121, 5);
      await until(() => received.length === 125, 'every event once', 10_000);
      subscription.unsubscribe();
      assert.deepEqual(
        received,
        [...first, ...missed, ...later].map((event) => event.id),
      );
    } finally {
      await client?.close();
      await relay.close();
    }
  });
});
