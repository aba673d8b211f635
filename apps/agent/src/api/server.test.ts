import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { LiveBus } from '../live/live-bus';
import { SqliteStore } from '../store/sqlite/sqlite-store';
import { scratchDir } from '../testing/harness';
import { isLoopbackHost, tokensMatch } from './auth';
import { webSocketUrl } from './client';
import { startApiServer } from './server';
import { startFixture } from './testing';

/** The status of a WebSocket upgrade: 101 when it opened, else the HTTP status it got. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

describe('the API server', () => {
  test('/metrics exposes the counters and /healthz answers', async () => {
    const fixture = await startFixture({ corpus: ['book-process-lifecycle.jsonl'] });
    try {
      fixture.metrics.eventsTotal.inc({ type: 'process_exec', binary: '/usr/bin/nc', node: 'n1' });
      const metrics = await fetch(`${fixture.server.url}/metrics`);
      assert.equal(metrics.status, 200);
      const text = await metrics.text();
      for (const name of [
        'proctrail_events_total',
        'proctrail_lost_events_total',
        'proctrail_dropped_total',
        'proctrail_queue_depth',
        'proctrail_store_batch_seconds',
        'proctrail_live_subscribers',
      ]) {
        assert.match(text, new RegExp(`# TYPE ${name} `));
      }
      assert.match(
        text,
        /proctrail_events_total\{type="process_exec",binary="\/usr\/bin\/nc",node="n1"\} 1/,
      );

      const health = await fetch(`${fixture.server.url}/healthz`);
      assert.equal(health.status, 200);
      const body = (await health.json()) as Record<string, unknown>;
      assert.equal(body.ok, true);
      assert.deepEqual(body.store, { reachable: true });
      assert.equal(typeof body.uptimeSeconds, 'number');
      assert.match(String(body.lastEventTime), /^2022-02-01T18:0\d:\d\d\.\d{9}Z$/);
    } finally {
      await fixture.close();
    }
  });

  test('binding beyond loopback without a token is refused, naming the way out', async () => {
    const scratch = scratchDir();
    const store = SqliteStore.open(scratch.db());
    try {
      await assert.rejects(
        startApiServer({
          store,
          bus: new LiveBus(),
          registry: new Registry(),
          listen: '0.0.0.0:0',
          logger: pino({ level: 'silent' }),
        }),
        /refusing to listen on 0\.0\.0\.0 without a token.*--token/,
      );
    } finally {
      await store.close();
      scratch.remove();
    }
  });

  test('with a token, HTTP and WebSocket requests without it get 401 and with it work', async () => {
    const fixture = await startFixture({ token: 's3cret' });
    try {
      const url = fixture.server.url;
      assert.equal((await fetch(`${url}/trpc/stats.summary`)).status, 401);
      assert.equal((await fetch(`${url}/metrics`)).status, 401);
      const wrong = { authorization: 'Bearer s3cre' };
      assert.equal((await fetch(`${url}/trpc/stats.summary`, { headers: wrong })).status, 401);
      const right = { authorization: 'Bearer s3cret' };
      assert.equal((await fetch(`${url}/trpc/stats.summary`, { headers: right })).status, 200);
      assert.equal((await fetch(`${url}/metrics`, { headers: right })).status, 200);

      // /healthz stays open for probes, but tells the time of the last event only with the token.
      const open = (await (await fetch(`${url}/healthz`)).json()) as Record<string, unknown>;
      assert.equal(open.ok, true);
      assert.equal('lastEventTime' in open, false);

      const ws = webSocketUrl(url);
      assert.equal(await upgradeStatus(ws), 401);
      assert.equal(await upgradeStatus(ws, wrong), 401);
      assert.equal(await upgradeStatus(ws, right), 101);
      assert.equal(await upgradeStatus(`${ws}?token=s3cret`), 101);
      assert.equal(await upgradeStatus(ws, { cookie: 'proctrail_token=s3cret' }), 101);

      const { trpc } = fixture.client('s3cret');
      assert.equal((await trpc.stats.summary.query({})).events, 0);
    } finally {
      await fixture.close();
    }
  });

  test('loopback hosts and token comparison', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', '[::1]', 'localhost', 'LOCALHOST']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
    assert.equal(tokensMatch('abc', 'abc'), true);
    assert.equal(tokensMatch('abc', 'abcd'), false);
    assert.equal(tokensMatch('', 'abc'), false);
  });
});
