import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { ExecRecord } from '@proctrail/bpf';
import type { TetragonProcess } from '@proctrail/schema';
import pino from 'pino';
import { BootClock } from '../process/clock';
import { ProcessCache } from '../process/process-cache';
import { EventBuilder } from '../pipeline/event-builder';
import { deploymentPod, startFakeKubeApi, type FakeKubeApi } from '../testing/fake-kube-api';
import { scratchDir } from '../testing/harness';
import { clusterConfig, PodWatch } from './pod-watch';
import { podsByContainer, workloadOf } from './pod-metadata';

const logger = pino({ level: 'silent' });
const NODE = 'node-a';
const CONTAINER_ID = '551e161c47d8ff0eb665438a7bcd5b4a1f3e9c2d7b8a6f5e4d3c2b1a0f9e8d7c';
const OTHER_NODE_CONTAINER = 'ab'.repeat(32);
const POD_UID = '7a1c2f5e-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
const scratch = scratchDir();
after(() => scratch.remove());

const webPod = (labels: Record<string, string> = {}) =>
  deploymentPod({
    namespace: 'shop',
    name: 'web-6d4cf56db6-x7k2p',
    uid: POD_UID,
    nodeName: NODE,
    deployment: 'web',
    templateHash: '6d4cf56db6',
    labels,
    container: {
      name: 'nginx',
      id: CONTAINER_ID,
      image: 'docker.io/library/nginx:1.27',
      startedAt: '2026-12-04T15:00:00Z',
    },
  });

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function withApi(run: (api: FakeKubeApi, watch: PodWatch) => Promise<void>): Promise<void> {
  const api = await startFakeKubeApi();
  const config = clusterConfig(api.writeKubeconfig(scratch.db(`kubeconfig-${Date.now()}`)));
  assert.ok(config);
  const watch = await PodWatch.start(config, {
    nodeName: NODE,
    logger,
    deletedPodGraceMs: 0,
    retryDelayMs: 100,
  });
  try {
    await run(api, watch);
  } finally {
    await watch.stop();
    await api.close();
  }
}

describe('pod metadata', () => {
  test('a ReplicaSet owner names its Deployment; other owners and none name themselves', () => {
    assert.deepEqual(workloadOf(webPod()), { workload: 'web', workload_kind: 'Deployment' });
    assert.deepEqual(
      workloadOf({
        metadata: {
          name: 'agent-x2x9q',
          ownerReferences: [
            { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u', controller: true },
          ],
        },
      }),
      { workload: 'agent', workload_kind: 'DaemonSet' },
    );
    assert.deepEqual(workloadOf({ metadata: { name: 'debug' } }), {
      workload: 'debug',
      workload_kind: 'Pod',
    });
  });

  test('each container with an id gets the pod, its name, image and start', () => {
    const pods = podsByContainer(webPod());
    assert.deepEqual([...pods.keys()], [CONTAINER_ID]);
    const pod = pods.get(CONTAINER_ID)!;
    assert.equal(pod.namespace, 'shop');
    assert.equal(pod.name, 'web-6d4cf56db6-x7k2p');
    assert.equal(pod.uid, POD_UID);
    assert.equal(pod.workload, 'web');
    assert.equal(pod.container?.id, `containerd://${CONTAINER_ID}`);
    assert.equal(pod.container?.name, 'nginx');
    assert.equal(pod.container?.image?.name, 'docker.io/library/nginx:1.27');
    assert.equal(pod.container?.start_time, '2026-12-04T15:00:00Z');
  });

  test('outside a cluster nothing is configured; a missing, unreadable or cluster-less kubeconfig is an error naming the file', () => {
    assert.equal(clusterConfig(undefined, {}, '/nonexistent/token'), undefined);
    assert.equal(
      clusterConfig(undefined, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, '/nonexistent/token'),
      undefined,
      'an API address without a service-account token is not a cluster',
    );
    const bad = scratch.db('kubeconfig-bad.yaml');
    writeFileSync(bad, 'clusters: [unclosed\n');
    assert.throws(() => clusterConfig(bad), new RegExp(`--kubeconfig ${bad}: `));
    const empty = scratch.db('kubeconfig-empty.json');
    writeFileSync(empty, JSON.stringify({ apiVersion: 'v1', kind: 'Config' }));
    assert.throws(() => clusterConfig(empty), /names no cluster with a server/);
    assert.throws(
      () => clusterConfig('/nonexistent/kubeconfig'),
      /--kubeconfig \/nonexistent\/kubeconfig/,
    );
  });
});

describe('PodWatch against a stand-in API server on loopback', () => {
  test('asks only for its node’s pods, with the token, and follows adds, label changes and deletes', async () => {
    await withApi(async (api, watch) => {
      await until(() => api.openWatches() === 1, 'the watch to open');
      const list = api.requests.find((r) => r.query.get('watch') !== 'true');
      assert.equal(list?.path, '/api/v1/pods');
      assert.equal(list?.query.get('fieldSelector'), `spec.nodeName=${NODE}`);
      assert.equal(list?.auth, `Bearer ${api.token}`);
      assert.equal(watch.podOf(CONTAINER_ID), undefined);

      api.put(webPod());
      api.put({
        ...webPod(),
        metadata: { ...webPod().metadata, name: 'elsewhere', uid: 'other-uid' },
        spec: { nodeName: 'node-b', containers: [] },
        status: {
          containerStatuses: [
            {
              name: 'x',
              containerID: `containerd://${OTHER_NODE_CONTAINER}`,
              image: 'i',
              imageID: 'i',
              ready: true,
              restartCount: 0,
            },
          ],
        },
      });
      await until(() => watch.podOf(CONTAINER_ID) !== undefined, 'the pod to appear');
      assert.equal(watch.podOf(CONTAINER_ID)?.pod_labels?.app, 'web');
      assert.equal(watch.podOf(OTHER_NODE_CONTAINER), undefined, 'another node’s pod');

      api.put(webPod({ tier: 'frontend' }));
      await until(() => watch.podOf(CONTAINER_ID)?.pod_labels?.tier === 'frontend', 'the label');

      api.remove('shop', 'web-6d4cf56db6-x7k2p');
      await until(() => watch.podOf(CONTAINER_ID) === undefined, 'the pod to go');
    });
  });

  test('pods that exist before the agent starts come with the first list', async () => {
    const api = await startFakeKubeApi();
    api.put(webPod());
    const config = clusterConfig(api.writeKubeconfig(scratch.db('kubeconfig-early')))!;
    const watch = await PodWatch.start(config, { nodeName: NODE, logger });
    try {
      assert.equal(watch.podOf(CONTAINER_ID)?.name, 'web-6d4cf56db6-x7k2p');
    } finally {
      await watch.stop();
      await api.close();
    }
  });

  test('a refused token is retried, and nothing is known meanwhile', async () => {
    const api = await startFakeKubeApi('the-real-token');
    api.put(webPod());
    const config = clusterConfig(
      api.writeKubeconfig(scratch.db('kubeconfig-wrong-token'), 'a-wrong-token'),
    )!;
    const watch = await PodWatch.start(config, {
      nodeName: NODE,
      logger,
      retryDelayMs: 50,
      firstListTimeoutMs: 200,
    });
    try {
      await until(() => api.requests.length >= 3, 'the list to be retried');
      assert.equal(watch.podOf(CONTAINER_ID), undefined);
    } finally {
      await watch.stop();
      await api.close();
    }
  });

  test('events of a process in the pod follow the pod: name, labels, and after it is gone', async () => {
    await withApi(async (api, watch) => {
      api.put(webPod());
      await until(() => watch.podOf(CONTAINER_ID) !== undefined, 'the pod');
      const cache = new ProcessCache(NODE);
      const builder = new EventBuilder(cache, new BootClock(), { nodeName: NODE, pods: watch });
      const cgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID.replaceAll('-', '_')}.slice/cri-containerd-${CONTAINER_ID}.scope`;

      const nginx = execIn(cgroup, 500, '/usr/sbin/nginx', 10n);
      const first = processOf(builder.build(nginx)[0]!.raw, 'process_exec');
      assert.equal(first.pod?.name, 'web-6d4cf56db6-x7k2p');
      assert.equal(first.pod?.namespace, 'shop');
      assert.equal(first.pod?.workload, 'web');
      assert.equal(first.pod?.workload_kind, 'Deployment');
      assert.equal(first.pod?.container?.name, 'nginx');
      assert.equal(first.docker, CONTAINER_ID);
      assert.equal(first.pod?.container?.pid, 500, 'the kernel’s pid inside the container stays');
      assert.equal(first.in_init_tree, true);
      assert.equal(
        first.pod?.container?.start_time,
        first.start_time,
        'the container start is its first process start, as the agent saw it',
      );

      api.put(webPod({ tier: 'frontend' }));
      await until(() => watch.podOf(CONTAINER_ID)?.pod_labels?.tier === 'frontend', 'the label');
      const exit = builder.build({
        kind: 'exit',
        pid: 500,
        tid: 500,
        flags: 0,
        ktimeNs: 20_000_000n,
        exitCode: 0,
        signal: 0,
        rawStatus: 0,
        startNs: 10n,
      });
      const exited = processOf(exit[0]!.raw, 'process_exit');
      assert.equal(exited.pod?.pod_labels?.tier, 'frontend', 'the exit carries the new label');
      assert.equal(first.pod?.pod_labels?.tier, undefined, 'the exec event keeps what it said');

      api.remove('shop', 'web-6d4cf56db6-x7k2p');
      await until(() => watch.podOf(CONTAINER_ID) === undefined, 'the pod to go');
      const late = processOf(
        builder.build(execIn(cgroup, 501, '/bin/sh', 30_000_000n))[0]!.raw,
        'process_exec',
      );
      assert.equal(late.pod?.name, undefined, 'no pod metadata once the pod is gone');
      assert.equal(late.pod?.uid, POD_UID, 'the cgroup still names the pod UID');
      assert.equal(late.docker, CONTAINER_ID);
    });
  });
});

const stdioNone = { isSocket: false, family: 0, protocol: 0 };

function execIn(cgroupPath: string, pid: number, binary: string, ktimeNs: bigint): ExecRecord {
  return {
    kind: 'exec',
    pid,
    tid: pid,
    ppid: 1,
    flags: 0,
    ktimeNs,
    startNs: ktimeNs,
    parentStartNs: 1n,
    uid: 0,
    euid: 0,
    gid: 0,
    auid: 4294967295,
    binary,
    filename: binary,
    argv: [binary],
    argc: 1,
    cwd: '/',
    cgroupPath,
    cgroupId: 99n,
    deleted: false,
    memfd: false,
    capabilities: { permitted: 0n, effective: 0n, inheritable: 0n },
    namespaces: { pid: 11, mnt: 12, net: 13, uts: 14, ipc: 15, cgroup: 16, user: 17 },
    pidInNamespace: pid,
    stdio: [stdioNone, stdioNone, stdioNone],
    truncated: { binary: false, filename: false, argv: false, cwd: false, cgroup: false },
    partial: false,
  };
}

function processOf(raw: unknown, kind: string): TetragonProcess {
  return (raw as Record<string, { process: TetragonProcess }>)[kind]!.process;
}
