import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseTetragonEvent } from '@proctrail/schema';
import { startFixture } from '../api/testing';
import { corpusFile, runCli, scratchDir } from '../testing/harness';

const BIN = fileURLToPath(new URL('../../bin/proctrail.js', import.meta.url));
const LIFECYCLE = corpusFile('book-process-lifecycle.jsonl');
const POD = 'tenant-jobs/elasticsearch-56f8fc6988-65smb';
const NC_LINES = [
  `🚀 process ${POD} /usr/bin/nc raiz3gjkgtfhkkc.not-reverse-shell.com 443`,
  `🔌 connect ${POD} /usr/bin/nc tcp 10.88.0.6:48416 -> 64.225.45.153:443`,
  `🧹 close   ${POD} /usr/bin/nc tcp 10.88.0.6:48416 -> 64.225.45.153:443`,
  `💥 exit    ${POD} /usr/bin/nc raiz3gjkgtfhkkc.not-reverse-shell.com 443 0`,
];

/** `proctrail ARGS` as its own process, with a file as standard input (so not a TTY). */
function runWithStdin(args: string[], stdinFile: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    input: readFileSync(stdinFile),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('proctrail tail', () => {
  test('-o compact on standard input prints one line per event, filters applied', () => {
    const all = runWithStdin(['tail', '-o', 'compact'], LIFECYCLE);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 9);
    assert.equal(lines[0], `🚀 process ${POD} /usr/bin/sh lifecycle.sh`);
    assert.equal(lines.at(-1), `💥 exit    ${POD} /usr/bin/sh lifecycle.sh 0`);

    const nc = runWithStdin(['tail', '--binary', 'nc'], LIFECYCLE);
    assert.deepEqual(nc.stdout.trimEnd().split('\n'), NC_LINES);
  });

  test('-o json on standard input prints the Tetragon JSON lines', () => {
    const run = runWithStdin(['tail', '-o', 'json', '--kind', 'process_exit'], LIFECYCLE);
    assert.equal(run.code, 0, run.stderr);
    const expected = readFileSync(LIFECYCLE, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"process_exit"'))
      .map((line) => JSON.stringify(JSON.parse(line)));
    assert.deepEqual(run.stdout.trimEnd().split('\n'), expected);
  });

  test('an escape sequence in an event is printed escaped', () => {
    const scratch = scratchDir();
    try {
      const file = `${scratch.dir}/evil.jsonl`;
      const event = {
        node_name: 'n',
        process_exec: { process: { binary: '/bin/sh', arguments: '-c \u001b]0;pwned\u0007' } },
      };
      spawnSync('sh', ['-c', `cat > ${file}`], { input: JSON.stringify(event) });
      const run = runWithStdin(['tail'], file);
      assert.equal(run.stdout, '🚀 process n /bin/sh -c \\x1b]0;pwned\\x07\n');
    } finally {
      scratch.remove();
    }
  });

  test('with /dev/null as standard input (cron, nohup) it follows the agent instead', async () => {
    const child = spawn(process.execPath, [BIN, 'tail'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      // Read as an empty file of events, /dev/null would end the tail at once with status 0.
      const ended = await Promise.race([
        new Promise((resolve) => child.once('exit', () => resolve(true))),
        new Promise((resolve) => setTimeout(() => resolve(false), 3000)),
      ]);
      assert.equal(ended, false, 'the tail is still following the agent after 3 s');
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('an agent that does not answer is reported once, and the tail keeps trying', async () => {
    // A loopback port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const api = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [BIN, 'tail', '--api', api], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      await until(() => stderr.includes('cannot reach'), 'the message', 10_000);
      // The retries that follow do not repeat it.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(child.exitCode, null, 'still trying');
      assert.deepEqual(stderr.trim().split('\n'), [
        `proctrail tail: cannot reach the agent at ${api} (is \`proctrail agent\` running there?); retrying`,
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test(
    'follows a live server: compact and json lines of events published while it runs',
    { timeout: 20_000 },
    async () => {
      const fixture = await startFixture();
      try {
        const url = fixture.server.url;
        const compact = runCli(['tail', '--api', url, '--binary', 'nc', '--max-events', '4']);
        await until(() => fixture.bus.subscriberCount === 1, 'the tail to subscribe');
        const source = await fixture.store.source('live', 'agent');
        const items = readFileSync(LIFECYCLE, 'utf8')
          .trim()
          .split('\n')
          .map((line) => {
            const raw = JSON.parse(line) as unknown;
            const outcome = parseTetragonEvent(raw);
            assert.ok(outcome.ok);
            return { parsed: outcome.parsed, raw };
          });
        const written = await fixture.store.write(source, items);
        fixture.bus.publish(written.events);
        const run = await compact;
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(run.stdout.trimEnd().split('\n'), NC_LINES);

        // With json the tail prints the stored JSON as is.
        await until(() => fixture.bus.subscriberCount === 0, 'the first tail to leave');
        const json = runCli(['tail', '--api', url, '-o', 'json', '--max-events', '1']);
        await until(() => fixture.bus.subscriberCount === 1, 'the json tail to subscribe');
        const raw = { node_name: 'other', process_exec: { process: { binary: '/bin/true' } } };
        const outcome = parseTetragonEvent(raw);
        assert.ok(outcome.ok);
        const again = await fixture.store.write(source, [{ parsed: outcome.parsed, raw }]);
        assert.equal(again.events.length, 1);
        fixture.bus.publish(again.events);
        const jsonRun = await json;
        assert.equal(jsonRun.stdout.trimEnd(), again.events[0]!.json);
      } finally {
        await fixture.close();
      }
    },
  );

  test(
    'a refused token ends the tail with an error instead of retrying forever',
    { timeout: 20_000 },
    async () => {
      const fixture = await startFixture({ token: 'right' });
      try {
        const run = await runCli(['tail', '--api', fixture.server.url, '--token', 'wrong']);
        assert.equal(run.code, 1);
        assert.match(run.stderr, /refused the token \(HTTP 401\)/);
      } finally {
        await fixture.close();
      }
    },
  );
});

describe('proctrail serve', () => {
  test('refuses to listen beyond loopback without a token', async () => {
    const scratch = scratchDir();
    try {
      const run = await runCli(['serve', '--db', scratch.db(), '--listen', '0.0.0.0:0']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
    } finally {
      scratch.remove();
    }
  });
});
