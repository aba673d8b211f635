import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  ExecRecord,
  ExitRecord,
  ForkRecord,
  IoRecord,
  OpenRecord,
  SensorRecord,
  SocketRecord,
} from './records';
import { startSensor } from './sensor';
import { collect, exitOf, kernelSkipReason, waitFor } from './testing/kernel';

const skip = kernelSkipReason();

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function ofKind<K extends SensorRecord['kind']>(records: SensorRecord[], kind: K) {
  return records.filter((r): r is SensorRecord & { kind: K } => r.kind === kind);
}

test(
  'a bash -> sh -> curl, cat chain is seen whole: execs, forks, connect, accept, open, read, exits',
  { skip, timeout: 60_000 },
  async () => {
    let clientPort = 0;
    const server = createServer((req, res) => {
      clientPort = req.socket.remotePort ?? 0;
      res.end('ok\n');
    });
    const port = await listen(server);
    // The listener lives in this process: its accept must be reported, so keep our records.
    const sensor = await startSensor({ ignoreOwnProcess: false }).catch((error: unknown) => {
      server.close();
      throw error;
    });
    const records = collect(sensor);

    try {
      const script = `sh -c "curl -s http://127.0.0.1:${port}/ >/dev/null; cat /etc/passwd >/dev/null; exit 3"`;
      const child = spawn('bash', ['-c', script], { stdio: 'ignore' });
      const shellPid = child.pid!;
      assert.equal(await exitOf(child), 3);
      await waitFor(
        () => ofKind(records, 'exit').some((r) => r.pid === shellPid),
        'the exit of the shell',
      );
      await sensor.settle();

      const execs = ofKind(records, 'exec');
      const inPlace = execs.filter((r) => r.pid === shellPid);
      // bash -c with a single command execs sh in place: one pid, two images, same parent.
      assert.deepEqual(
        inPlace.map((r) => r.argv[0]),
        ['bash', 'sh'],
      );
      for (const exec of inPlace) assert.equal(exec.ppid, process.pid);
      assert.equal(inPlace[0]!.startNs, inPlace[1]!.startNs);

      const curl = execs.find((r) => r.ppid === shellPid && r.argv[0] === 'curl') as ExecRecord;
      const cat = execs.find((r) => r.ppid === shellPid && r.argv[0] === 'cat') as ExecRecord;
      assert.ok(curl, 'curl exec');
      assert.ok(cat, 'cat exec');
      assert.equal(curl.binary, '/usr/bin/curl');
      assert.deepEqual(cat.argv, ['cat', '/etc/passwd']);
      assert.equal(curl.parentStartNs, inPlace[0]!.startNs);

      const forks = ofKind(records, 'fork') as ForkRecord[];
      for (const childExec of [curl, cat]) {
        const fork = forks.find((f) => f.childPid === childExec.pid);
        assert.ok(fork, `fork of ${childExec.argv[0]}`);
        assert.equal(fork.pid, shellPid);
        assert.ok(fork.ktimeNs <= childExec.ktimeNs);
      }

      const connect = ofKind(records, 'connect').find((r) => r.pid === curl.pid) as SocketRecord;
      assert.ok(connect, 'connect of curl');
      assert.ok(
        connect.result === 0 || connect.result === -115,
        `connect result ${connect.result}`,
      );
      assert.deepEqual(connect.remote, { address: '127.0.0.1', port });
      assert.deepEqual(connect.local, { address: '127.0.0.1', port: clientPort });
      assert.equal(connect.protocol, 6);

      const accept = ofKind(records, 'accept').find(
        (r) => r.pid === process.pid && r.remote.port === clientPort,
      ) as SocketRecord;
      assert.ok(accept, 'accept by this process');
      assert.deepEqual(accept.local, { address: '127.0.0.1', port });
      assert.deepEqual(accept.remote, { address: '127.0.0.1', port: clientPort });
      assert.notEqual(accept.cookie, connect.cookie);

      const close = ofKind(records, 'close').find((r) => r.cookie === connect.cookie);
      assert.ok(close, 'close of the connected socket, same cookie');
      assert.equal(close.pid, curl.pid);
      assert.ok((close.bytesSent ?? 0n) > 0n && (close.bytesReceived ?? 0n) > 0n);

      const open = ofKind(records, 'open').find((r) => r.pid === cat.pid) as OpenRecord;
      assert.ok(open, 'open of /etc/passwd by cat');
      assert.equal(open.path, '/etc/passwd');
      assert.ok(open.result >= 0);
      const reads = ofKind(records, 'read').filter((r) => r.pid === cat.pid) as IoRecord[];
      assert.equal(
        reads.reduce((sum, r) => sum + Math.max(r.bytes, 0), 0),
        statSync('/etc/passwd').size,
      );
      assert.ok(reads.every((r) => r.fileCookie === open.fileCookie && r.fd === open.result));

      const exits = ofKind(records, 'exit') as ExitRecord[];
      const exitOfPid = (pid: number) => exits.filter((r) => r.pid === pid);
      assert.deepEqual(
        exitOfPid(curl.pid).map((r) => r.exitCode),
        [0],
      );
      assert.deepEqual(
        exitOfPid(cat.pid).map((r) => r.exitCode),
        [0],
      );
      assert.deepEqual(
        exitOfPid(shellPid).map((r) => [r.exitCode, r.signal]),
        [[3, 0]],
      );
      assert.equal(sensor.counters().lost, 0);
    } finally {
      sensor.stop();
      server.close();
    }
  },
);

test('a process killed by a signal exits with that signal', { skip, timeout: 30_000 }, async () => {
  const sensor = await startSensor({ hooks: { network: false, files: false } });
  const records = collect(sensor);
  try {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await waitFor(() => ofKind(records, 'exec').some((r) => r.pid === child.pid), 'sleep exec');
    child.kill('SIGKILL');
    await waitFor(() => ofKind(records, 'exit').some((r) => r.pid === child.pid), 'sleep exit');
    const exit = ofKind(records, 'exit').find((r) => r.pid === child.pid)!;
    assert.equal(exit.signal, 9);
  } finally {
    sensor.stop();
  }
});
