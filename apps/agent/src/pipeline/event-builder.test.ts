import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  ExecRecord,
  ExitRecord,
  ForkRecord,
  SnapshotProcess,
  SocketRecord,
} from '@proctrail/bpf';
import { execIdFor, fileEdgesOf, networkEdgesOf, type TetragonProcess } from '@proctrail/schema';
import { BootClock } from '../process/clock';
import { ProcessCache } from '../process/process-cache';
import { EventBuilder } from './event-builder';

const NODE = 'test-node';
const ms = (n: number) => BigInt(n) * 1_000_000n;

function builder() {
  const cache = new ProcessCache(NODE);
  return { cache, events: new EventBuilder(cache, new BootClock(), { nodeName: NODE }) };
}

const stdioNone = { isSocket: false, family: 0, protocol: 0 };

function execRecord(
  fields: Partial<ExecRecord> &
    Pick<ExecRecord, 'pid' | 'ppid' | 'binary' | 'argv' | 'ktimeNs' | 'startNs'>,
): ExecRecord {
  return {
    kind: 'exec',
    tid: fields.pid,
    flags: 0,
    parentStartNs: ms(1),
    uid: 0,
    euid: 0,
    gid: 0,
    auid: 4294967295,
    filename: fields.binary,
    argc: fields.argv.length,
    cwd: '/tmp',
    cgroupPath: '/',
    cgroupId: 1n,
    deleted: false,
    memfd: false,
    capabilities: { permitted: 0n, effective: 0n, inheritable: 0n },
    namespaces: { pid: 1, mnt: 2, net: 3, uts: 4, ipc: 5, cgroup: 6, user: 7 },
    pidInNamespace: fields.pid,
    stdio: [stdioNone, stdioNone, stdioNone],
    truncated: { binary: false, filename: false, argv: false, cwd: false, cgroup: false },
    partial: false,
    ...fields,
  };
}

function forkRecord(
  parentPid: number,
  parentStartNs: bigint,
  childPid: number,
  at: bigint,
): ForkRecord {
  return {
    kind: 'fork',
    pid: parentPid,
    tid: parentPid,
    flags: 0,
    ktimeNs: at,
    childPid,
    childTid: childPid,
    childStartNs: at,
    parentStartNs,
  };
}

function exitRecord(
  pid: number,
  startNs: bigint,
  at: bigint,
  exitCode = 0,
  signal = 0,
): ExitRecord {
  return {
    kind: 'exit',
    pid,
    tid: pid,
    flags: 0,
    ktimeNs: at,
    exitCode,
    signal,
    rawStatus: (exitCode << 8) | signal,
    startNs,
  };
}

function processOf(item: { raw: unknown }, kind: string): TetragonProcess {
  return (item.raw as Record<string, { process: TetragonProcess }>)[kind]!.process;
}

const snapshotShell: SnapshotProcess = {
  pid: 100,
  ppid: 1,
  startTicks: 5,
  startNs: ms(50),
  binary: '/bin/bash',
  argv: ['bash'],
  cwd: '/root',
  uid: 0,
  euid: 0,
  gid: 0,
  kernelThread: false,
};

describe('event builder', () => {
  test('a process found at start-up gets a procFS exec_id from its start ticks', () => {
    const { events } = builder();
    const [exec] = events.seed([snapshotShell], new Map());
    const process = processOf(exec!, 'process_exec');
    assert.equal(process.exec_id, execIdFor(NODE, ms(50), 100));
    assert.match(process.flags!, /procFS/);
  });

  test('a fork then an exec is a child of the forking process, flagged clone', () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    assert.deepEqual(events.build(forkRecord(100, ms(50), 200, ms(1000))), []);
    const [exec] = events.build(
      execRecord({
        pid: 200,
        ppid: 100,
        binary: '/usr/bin/curl',
        argv: ['curl', 'http://127.0.0.1/'],
        ktimeNs: ms(1001),
        startNs: ms(1000),
      }),
    );
    const process = processOf(exec!, 'process_exec');
    assert.equal(process.exec_id, execIdFor(NODE, ms(1001), 200));
    assert.equal(process.parent_exec_id, execIdFor(NODE, ms(50), 100));
    assert.equal(process.arguments, 'http://127.0.0.1/');
    assert.match(process.flags!, /\bclone\b/);
    const parent = (exec!.raw as { process_exec: { parent: TetragonProcess } }).process_exec.parent;
    assert.equal(parent.binary, '/bin/bash', 'the parent is embedded as Tetragon does');
  });

  test("an exec without a fork is a child of the same pid's previous image, without clone", () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    events.build(forkRecord(100, ms(50), 200, ms(1000)));
    const [sh] = events.build(
      execRecord({
        pid: 200,
        ppid: 100,
        binary: '/bin/sh',
        argv: ['sh', '-c', 'exec id'],
        ktimeNs: ms(1001),
        startNs: ms(1000),
      }),
    );
    const [id] = events.build(
      execRecord({
        pid: 200,
        ppid: 100,
        binary: '/usr/bin/id',
        argv: ['id'],
        ktimeNs: ms(1002),
        startNs: ms(1000),
      }),
    );
    const idProcess = processOf(id!, 'process_exec');
    assert.equal(idProcess.parent_exec_id, processOf(sh!, 'process_exec').exec_id);
    assert.doesNotMatch(idProcess.flags!, /clone/);
    assert.equal(
      processOf(sh!, 'process_exec').arguments,
      '-c "exec id"',
      'an argument with a space is quoted',
    );
  });

  test("a fork that never execs exits under its own exec_id with its parent's image", () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    events.build(forkRecord(100, ms(50), 300, ms(2000)));
    const [exit] = events.build(exitRecord(300, ms(2000), ms(2100), 1));
    const process = processOf(exit!, 'process_exit');
    assert.equal(process.exec_id, execIdFor(NODE, ms(2000), 300));
    assert.equal(process.binary, '/bin/bash');
    assert.equal(process.parent_exec_id, execIdFor(NODE, ms(50), 100));
    assert.equal((exit!.raw as { process_exit: { status: number } }).process_exit.status, 1);
  });

  test("a killed process exits with the signal's name and no status", () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    const [exit] = events.build(exitRecord(100, ms(50), ms(3000), 0, 9));
    const body = (exit!.raw as { process_exit: { signal?: string; status?: number } }).process_exit;
    assert.equal(body.signal, 'SIGKILL');
    assert.equal(body.status, undefined);
  });

  test('a process kept from an earlier run keeps its exec_id and is not announced again', () => {
    const { events, cache } = builder();
    const earlier = {
      exec_id: 'ZWFybGllcg==',
      pid: 100,
      binary: '/bin/bash',
      start_time: '2026-01-01T00:00:00.000000000Z',
    };
    const items = events.seed([snapshotShell], new Map([[100, earlier]]));
    assert.equal(items.length, 0);
    assert.equal(cache.current(100)?.execId, 'ZWFybGllcg==');
  });

  test('a connect becomes a tcp_connect kprobe event that reads back as a network edge', () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    const connect: SocketRecord = {
      kind: 'connect',
      pid: 100,
      tid: 100,
      flags: 0,
      ktimeNs: ms(4000),
      cookie: 18446613061298568960n,
      fd: 3,
      result: 0,
      family: 'ipv4',
      protocol: 6,
      sockType: 1,
      local: { address: '127.0.0.1', port: 40000 },
      remote: { address: '127.0.0.1', port: 8080 },
    };
    const [item] = events.build(connect);
    const [edge] = networkEdgesOf(item!.parsed);
    assert.deepEqual(
      {
        type: edge!.type,
        saddr: edge!.saddr,
        sport: edge!.sport,
        daddr: edge!.daddr,
        dport: edge!.dport,
        cookie: edge!.cookie,
      },
      {
        type: 'connect',
        saddr: '127.0.0.1',
        sport: 40000,
        daddr: '127.0.0.1',
        dport: 8080,
        cookie: '18446613061298568960',
      },
    );
    const [closed] = events.build({
      ...connect,
      kind: 'close',
      bytesSent: 10n,
      bytesReceived: 20n,
    });
    const [closeEdge] = networkEdgesOf(closed!.parsed);
    assert.equal(closeEdge!.type, 'close');
    assert.equal(closeEdge!.bytesSent, 10);
    assert.equal(closeEdge!.bytesReceived, 20);
  });

  test('an IPv6 socket talking to an IPv4 peer names the peer in IPv4, as Tetragon does', () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    const [item] = events.build({
      kind: 'connect',
      pid: 100,
      tid: 100,
      flags: 0,
      ktimeNs: ms(4000),
      cookie: 1n,
      fd: 3,
      result: 0,
      family: 'ipv6',
      protocol: 6,
      sockType: 1,
      local: { address: '::ffff:127.0.0.1', port: 40000 },
      remote: { address: '::ffff:127.0.0.9', port: 389 },
    });
    const [edge] = networkEdgesOf(item!.parsed);
    assert.deepEqual(
      [edge!.family, edge!.saddr, edge!.daddr],
      ['AF_INET6', '127.0.0.1', '127.0.0.9'],
    );
    const [v6] = events.build({
      kind: 'connect',
      pid: 100,
      tid: 100,
      flags: 0,
      ktimeNs: ms(4001),
      cookie: 2n,
      fd: 4,
      result: 0,
      family: 'ipv6',
      protocol: 6,
      sockType: 1,
      local: { address: '::1', port: 40001 },
      remote: { address: '::ffff:7f00:9', port: 389 },
    });
    assert.equal(networkEdgesOf(v6!.parsed)[0]!.daddr, '::ffff:7f00:9', 'only the dotted form');
  });

  test('reads of an opened watched file carry its path and byte count', () => {
    const { events } = builder();
    events.seed([snapshotShell], new Map());
    const [open] = events.build({
      kind: 'open',
      pid: 100,
      tid: 100,
      flags: 0,
      ktimeNs: ms(5000),
      path: '/etc/passwd',
      result: 3,
      fileCookie: 77n,
    });
    assert.deepEqual(
      fileEdgesOf(open!.parsed).map((e) => [e.operation, e.path]),
      [['open', '/etc/passwd']],
    );
    const [read] = events.build({
      kind: 'read',
      pid: 100,
      tid: 100,
      flags: 0,
      ktimeNs: ms(5001),
      fd: 3,
      bytes: 1234,
      fileCookie: 77n,
    });
    assert.deepEqual(
      fileEdgesOf(read!.parsed).map((e) => [e.operation, e.path, e.bytes]),
      [['read', '/etc/passwd', 1234]],
    );
  });
});
