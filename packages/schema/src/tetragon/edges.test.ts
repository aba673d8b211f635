import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileEdgesOf, networkEdgesOf } from './edges';
import { parseTetragonEvent, type ParsedEvent } from './parse';

function parsed(value: unknown): ParsedEvent {
  const outcome = parseTetragonEvent(value);
  assert.ok(outcome.ok, outcome.ok ? '' : JSON.stringify(outcome.problem));
  return outcome.parsed;
}

function kprobe(functionName: string, args: unknown[], extra: Record<string, unknown> = {}) {
  return parsed({
    process_kprobe: { process: { pid: 1 }, function_name: functionName, args, ...extra },
  });
}

const sock = {
  family: 'AF_INET',
  type: 'SOCK_STREAM',
  protocol: 'IPPROTO_TCP',
  saddr: '10.0.0.5',
  daddr: '203.0.113.9',
  sport: 40000,
  dport: 443,
  cookie: '18446613061298568960',
  state: 'TCP_SYN_SENT',
};

describe('network edges', () => {
  test('tcp_connect with a sock_arg is a connect with its 4-tuple and cookie', () => {
    assert.deepEqual(networkEdgesOf(kprobe('tcp_connect', [{ sock_arg: sock }])), [
      {
        type: 'connect',
        family: 'AF_INET',
        protocol: 'IPPROTO_TCP',
        saddr: '10.0.0.5',
        sport: 40000,
        daddr: '203.0.113.9',
        dport: 443,
        cookie: '18446613061298568960',
        state: 'TCP_SYN_SENT',
      },
    ]);
  });

  test('tcp_close is a close', () => {
    const [edge] = networkEdgesOf(kprobe('tcp_close', [{ sock_arg: sock }]));
    assert.equal(edge!.type, 'close');
    assert.equal(edge!.bytesSent, undefined);
  });

  test('tcp_sendmsg counts the bytes of its size argument as sent', () => {
    const [edge] = networkEdgesOf(kprobe('tcp_sendmsg', [{ sock_arg: sock }, { int_arg: 8680 }]));
    assert.equal(edge!.type, 'sendmsg');
    assert.equal(edge!.bytesSent, 8680);
    assert.equal(edge!.bytesReceived, undefined);
  });

  test('an AF_INET6 socket carrying IPv4 addresses is still an edge', () => {
    const [edge] = networkEdgesOf(
      kprobe('tcp_sendmsg', [{ sock_arg: { ...sock, family: 'AF_INET6' } }]),
    );
    assert.deepEqual([edge!.family, edge!.daddr], ['AF_INET6', '203.0.113.9']);
  });

  test('a netlink socket with <nil> addresses is not an edge', () => {
    const netlink = { family: 'AF_NETLINK', saddr: '<nil>', daddr: '<nil>', state: 'TCP_CLOSE' };
    assert.deepEqual(
      networkEdgesOf(kprobe('__cgroup_bpf_run_filter_skb', [{ sock_arg: netlink }])),
      [],
    );
  });

  test('sys_connect with a sockaddr_arg is a connect to that address and port', () => {
    const event = kprobe('__x64_sys_connect', [
      { int_arg: 3 },
      { sockaddr_arg: { family: 'AF_INET', addr: '64.225.45.153', port: 443 } },
    ]);
    assert.deepEqual(networkEdgesOf(event), [
      { type: 'connect', daddr: '64.225.45.153', family: 'AF_INET', dport: 443 },
    ]);
  });

  test('a connect to a unix socket is not a network edge', () => {
    const event = kprobe('__x64_sys_connect', [
      { sockaddr_arg: { family: 'AF_UNIX', addr: '/run/docker.sock' } },
    ]);
    assert.deepEqual(networkEdgesOf(event), []);
  });

  test('legacy process_connect, process_close and process_listen are edges of their kind', () => {
    const legacy = {
      process: { pid: 1 },
      source_ip: '10.88.0.3',
      source_port: 46866,
      destination_ip: '34.116.205.187',
      destination_port: 443,
      protocol: 'TCP',
    };
    assert.deepEqual(networkEdgesOf(parsed({ process_connect: legacy })), [
      {
        type: 'connect',
        protocol: 'TCP',
        saddr: '10.88.0.3',
        sport: 46866,
        daddr: '34.116.205.187',
        dport: 443,
        family: 'AF_INET',
      },
    ]);
    const close = parsed({
      process_close: { ...legacy, stats: { bytes_sent: '4364', bytes_received: '8874' } },
    });
    const [closed] = networkEdgesOf(close);
    assert.deepEqual(
      [closed!.type, closed!.bytesSent, closed!.bytesReceived],
      ['close', 4364, 8874],
    );
    const listen = parsed({ process_listen: { ...legacy, destination_ip: '::1' } });
    assert.deepEqual(
      networkEdgesOf(listen).map((e) => [e.type, e.family]),
      [['listen', 'AF_INET6']],
    );
  });

  test('events about no network have no network edge', () => {
    assert.deepEqual(networkEdgesOf(parsed({ process_exec: { process: { pid: 1 } } })), []);
  });
});

describe('file edges', () => {
  test('security_file_permission reads its mask: 2 is a write, 4 a read', () => {
    const path = { file_arg: { path: '/etc/shadow' } };
    const write = fileEdgesOf(kprobe('security_file_permission', [path, { int_arg: 2 }]));
    const read = fileEdgesOf(kprobe('security_file_permission', [path, { int_arg: 4 }]));
    assert.deepEqual(write, [{ operation: 'write', path: '/etc/shadow' }]);
    assert.deepEqual(read, [{ operation: 'read', path: '/etc/shadow' }]);
  });

  test('fd_install is an open of its file', () => {
    const event = kprobe('fd_install', [
      { int_arg: 3 },
      { file_arg: { path: '/etc/passwd', flags: '' } },
    ]);
    assert.deepEqual(fileEdgesOf(event), [{ operation: 'open', path: '/etc/passwd' }]);
  });

  test('sys_read counts the bytes its return value says it read', () => {
    const event = kprobe(
      '__x64_sys_read',
      [{ file_arg: { path: 'usr/share/keystore' } }, { size_arg: '65536' }],
      { return: { int_arg: 1024 } },
    );
    assert.deepEqual(fileEdgesOf(event), [
      { operation: 'read', path: '/usr/share/keystore', bytes: 1024 },
    ]);
  });

  test('sys_read without a return value counts its size argument', () => {
    const event = kprobe('__x64_sys_read', [{ file_arg: { path: '/k' } }, { size_arg: '65536' }]);
    assert.equal(fileEdgesOf(event)[0]!.bytes, 65536);
  });

  test('a failed sys_read counts no bytes', () => {
    const event = kprobe('__x64_sys_read', [{ file_arg: { path: '/k' } }, { size_arg: '65536' }], {
      return: { int_arg: -11 },
    });
    assert.equal(fileEdgesOf(event)[0]!.bytes, undefined);
  });

  test('an openat syscall takes its path from a string argument', () => {
    const event = kprobe('__x64_sys_openat', [{ int_arg: -100 }, { string_arg: '/etc/hosts' }]);
    assert.deepEqual(fileEdgesOf(event), [{ operation: 'open', path: '/etc/hosts' }]);
  });

  test('events about no file have no file edge', () => {
    assert.deepEqual(fileEdgesOf(kprobe('tcp_connect', [{ sock_arg: sock }])), []);
  });
});
