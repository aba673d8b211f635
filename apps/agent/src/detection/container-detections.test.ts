/**
 * The late-execution and injected-process rules on events as the agent builds them from
 * kernel records: a container's init and its tree, a shell its tree starts late, and shells
 * runc puts into it from outside (kubectl exec), early and late. No Kubernetes API: the
 * container's start is its init's, as the agent saw it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecRecord } from '@proctrail/bpf';
import type { ParsedEvent } from '@proctrail/schema';
import { EventBuilder } from '../pipeline/event-builder';
import { BootClock } from '../process/clock';
import { ProcessCache } from '../process/process-cache';
import { DetectionEngine } from './engine';
import { loadRulesDir } from './load-rules';
import type { PodDirectory } from '../container/pod-directory';
import { clusterConfig, PodWatch } from '../container/pod-watch';
import { deploymentPod, startFakeKubeApi } from '../testing/fake-kube-api';
import { scratchDir } from '../testing/harness';
import pino from 'pino';

const ID = '4f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8';
const UID = '7a1c2f5e-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
const CONTAINER_CGROUP = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${ID}.scope`;
const HOST_CGROUP = '/system.slice/containerd.service';
const HOST_PID_NS = 4026531836;
const CONTAINER_PID_NS = 4026532500;
const seconds = (n: number) => BigInt(Math.round(n * 1e9));
const stdioNone = { isSocket: false, family: 0, protocol: 0 };

function exec(fields: {
  pid: number;
  ppid: number;
  parentStartNs: bigint;
  atNs: bigint;
  binary: string;
  argv?: string[];
  cgroupPath: string;
  pidNamespace: number;
  pidInNamespace?: number;
}): ExecRecord {
  return {
    kind: 'exec',
    pid: fields.pid,
    tid: fields.pid,
    ppid: fields.ppid,
    flags: 0,
    ktimeNs: fields.atNs,
    startNs: fields.atNs,
    parentStartNs: fields.parentStartNs,
    uid: 0,
    euid: 0,
    gid: 0,
    auid: 4294967295,
    binary: fields.binary,
    filename: fields.binary,
    argv: fields.argv ?? [fields.binary],
    argc: (fields.argv ?? [fields.binary]).length,
    cwd: '/',
    cgroupPath: fields.cgroupPath,
    cgroupId: 1n,
    deleted: false,
    memfd: false,
    capabilities: { permitted: 0n, effective: 0n, inheritable: 0n },
    namespaces: {
      pid: fields.pidNamespace,
      mnt: 2,
      net: 3,
      uts: 4,
      ipc: 5,
      cgroup: 6,
      user: 7,
    },
    pidInNamespace: fields.pidInNamespace ?? fields.pid,
    stdio: [stdioNone, stdioNone, stdioNone],
    truncated: { binary: false, filename: false, argv: false, cwd: false, cgroup: false },
    partial: false,
  };
}

/** A node's story: containerd's shim starts nginx's container, later things happen in it. */
function scenario(pods?: PodDirectory) {
  const cache = new ProcessCache('node-a');
  const builder = new EventBuilder(cache, new BootClock(), { nodeName: 'node-a', pods });
  const engine = new DetectionEngine(loadRulesDir().rules);
  let eventId = 0;

  const run = (record: ExecRecord): { rules: string[]; explanations: string[] } => {
    const [item] = builder.build(record);
    const parsed = item!.parsed as ParsedEvent;
    const entry = cache.current(record.pid)!;
    const findings = engine.evaluate({
      eventId: ++eventId,
      parsed,
      ancestors: () => cache.ancestorsOf(entry, 32),
    });
    return {
      rules: findings.map((f) => f.rule).sort(),
      explanations: findings.map((f) => f.explanation),
    };
  };

  const shim = { pid: 100, atNs: seconds(1) };
  run(
    exec({
      ...shim,
      ppid: 1,
      parentStartNs: 0n,
      binary: '/usr/bin/containerd-shim-runc-v2',
      cgroupPath: HOST_CGROUP,
      pidNamespace: HOST_PID_NS,
    }),
  );
  const init = { pid: 200, atNs: seconds(2) };
  const inTree = { cgroupPath: CONTAINER_CGROUP, pidNamespace: CONTAINER_PID_NS };
  const initRun = run(
    exec({
      ...init,
      ...inTree,
      ppid: shim.pid,
      parentStartNs: shim.atNs,
      binary: '/usr/sbin/nginx',
      pidInNamespace: 1,
    }),
  );
  return { run, shim, init, inTree, initRun };
}

/** runc (on the host, a child of the shim) putting a shell into the container at `at`. */
function kubectlExec(
  story: ReturnType<typeof scenario>,
  runcPid: number,
  atSeconds: number,
): { rules: string[]; explanations: string[] } {
  const runc = { pid: runcPid, atNs: seconds(atSeconds) };
  story.run(
    exec({
      ...runc,
      ppid: story.shim.pid,
      parentStartNs: story.shim.atNs,
      binary: '/usr/bin/runc',
      cgroupPath: HOST_CGROUP,
      pidNamespace: HOST_PID_NS,
    }),
  );
  return story.run(
    exec({
      pid: runcPid + 1,
      atNs: seconds(atSeconds) + 1_000_000n,
      ppid: runc.pid,
      parentStartNs: runc.atNs,
      binary: '/bin/sh',
      ...story.inTree,
    }),
  );
}

describe('container rules on the agent’s own events', () => {
  test('the container init fires neither rule', () => {
    const story = scenario();
    assert.ok(!story.initRun.rules.includes('late-exec'));
    assert.ok(!story.initRun.rules.includes('container-entered-from-outside'));
  });

  test('a shell entered from outside fires container-entered-from-outside, early or late', () => {
    const story = scenario();
    const early = kubectlExec(story, 300, 30);
    assert.ok(early.rules.includes('container-entered-from-outside'), early.rules.join());
    assert.ok(!early.rules.includes('late-exec'), 'half a minute after the container started');
    const explanation = early.explanations.find((e) => e.includes('does not descend'));
    assert.match(
      explanation ?? '',
      new RegExp(`container ${ID.slice(0, 12)} \\(pod uid ${UID}\\)`),
      'names the container and the pod the cgroup says',
    );
  });

  test('late-exec measures from the container start, also for an entered shell', () => {
    const story = scenario();
    // Ten minutes after nginx started: its own root in the container is itself, a second
    // old; only the container's start says how late it is.
    const late = kubectlExec(story, 400, 602);
    assert.ok(late.rules.includes('late-exec'), late.rules.join());
    assert.ok(late.rules.includes('container-entered-from-outside'));
    assert.ok(
      late.explanations.some((e) =>
        e.includes(`started 10 minutes after its container ${ID.slice(0, 12)} started`),
      ),
      late.explanations.join('\n'),
    );
  });

  test('a late process of the init tree fires late-exec only', () => {
    const story = scenario();
    const worker = story.run(
      exec({
        pid: 201,
        atNs: seconds(700),
        ppid: story.init.pid,
        parentStartNs: story.init.atNs,
        binary: '/usr/bin/curl',
        ...story.inTree,
      }),
    );
    assert.ok(worker.rules.includes('late-exec'), worker.rules.join());
    assert.ok(!worker.rules.includes('container-entered-from-outside'));
  });
});

describe('exec probes', () => {
  test('kubelet’s exec probe and its children are not taken for someone entering', async () => {
    const api = await startFakeKubeApi();
    const scratch = scratchDir();
    api.put(
      deploymentPod({
        namespace: 'shop',
        name: 'web-6d4cf56db6-x7k2p',
        uid: UID,
        nodeName: 'node-a',
        deployment: 'web',
        templateHash: '6d4cf56db6',
        container: {
          name: 'nginx',
          id: ID,
          image: 'nginx:1.27',
          startedAt: '2026-12-04T15:00:00Z',
        },
        livenessCommand: ['sh', '-c', 'cat /tmp/healthy'],
      }),
    );
    const pods = await PodWatch.start(clusterConfig(api.writeKubeconfig(scratch.db('kc')))!, {
      nodeName: 'node-a',
      logger: pino({ level: 'silent' }),
    });
    try {
      const story = scenario(pods);
      // The probe: runc puts `sh -c "cat /tmp/healthy"` in, which runs cat.
      const runc = { pid: 500, atNs: seconds(40) };
      story.run(
        exec({
          ...runc,
          ppid: story.shim.pid,
          parentStartNs: story.shim.atNs,
          binary: '/usr/bin/runc',
          cgroupPath: HOST_CGROUP,
          pidNamespace: HOST_PID_NS,
        }),
      );
      const probe = { pid: 501, atNs: seconds(40) + 1_000_000n };
      const probeRun = story.run(
        exec({
          ...probe,
          ppid: runc.pid,
          parentStartNs: runc.atNs,
          binary: '/usr/bin/dash',
          argv: ['sh', '-c', 'cat /tmp/healthy'],
          ...story.inTree,
        }),
      );
      assert.deepEqual(probeRun.rules, [], 'the probe itself');
      const catRun = story.run(
        exec({
          pid: 502,
          atNs: seconds(40) + 2_000_000n,
          ppid: probe.pid,
          parentStartNs: probe.atNs,
          binary: '/usr/bin/cat',
          argv: ['cat', '/tmp/healthy'],
          ...story.inTree,
        }),
      );
      assert.ok(!catRun.rules.includes('container-entered-from-outside'), catRun.rules.join());

      // A shell with other arguments, entered the same way, is someone entering.
      const shell = kubectlExec(story, 600, 50);
      assert.ok(shell.rules.includes('container-entered-from-outside'), shell.rules.join());
    } finally {
      await pods.stop();
      await api.close();
      scratch.remove();
    }
  });
});
