/**
 * Container identity and init trees on real processes: the test makes cgroups named the way
 * kubelet and the runtimes name them, under a folder of its own in the cgroup v2 hierarchy,
 * starts processes in them (one container with its own pid namespace and init, made with
 * unshare, then entered from outside with nsenter), and reads their events back through a
 * real agent's API.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findCgroupV2Root } from '@proctrail/bpf';
import { kernelSkipReason, waitFor } from '@proctrail/bpf/testing';
import type { ProcessNode } from '@proctrail/schema';
import { createApiClient, type ApiClient } from '../api/client';
import { collect, startAgentProcess, type RunningAgent } from '../testing/agent-process';
import { deploymentPod, startFakeKubeApi, type FakeKubeApi } from '../testing/fake-kube-api';

const skip = kernelSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'proctrail-containers-'));

// Ids of the shape containerd and kubelet use, fixed per test run.
const runTag = process.pid.toString(16).padStart(8, '0');
const CONTAINERD_ID = `${runTag}${'c0ffee11'.repeat(7)}`;
const CGROUPFS_ID = `${runTag}${'0badcafe'.repeat(7)}`;
const DOCKER_ID = `${runTag}${'d0c4e500'.repeat(7)}`;
const SYSTEMD_POD_UID = `${runTag}-1111-4222-8333-444455556666`;
const CGROUPFS_POD_UID = `${runTag}-aaaa-4bbb-8ccc-ddddeeeeffff`;

/** The test's own top folder, so nothing it makes mixes with the host's cgroups. */
const top = `proctrail-k8s-test-${process.pid}`;
const systemdPod = `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${SYSTEMD_POD_UID.replaceAll('-', '_')}.slice`;
const containerdScope = `${top}/${systemdPod}/cri-containerd-${CONTAINERD_ID}.scope`;
const cgroupfsContainer = `${top}/kubepods/besteffort/pod${CGROUPFS_POD_UID}/${CGROUPFS_ID}`;
const dockerContainer = `${top}/docker/${DOCKER_ID}`;

const marker = `k8s-${process.pid}-${Date.now()}`;
const started: ChildProcess[] = [];

/** Runs `script` in bash after moving that bash into `cgroup` (relative to the v2 root). */
function startIn(root: string, cgroup: string, script: string): ChildProcess {
  const procs = join(root, cgroup, 'cgroup.procs');
  const child = spawn('bash', ['-c', `echo $$ > ${procs} && exec ${script}`], {
    stdio: 'ignore',
    detached: true,
  });
  started.push(child);
  return child;
}

/** The host pid of the process that is pid 1 in its own pid namespace within `cgroup`. */
function namespaceInitOf(root: string, cgroup: string): number | undefined {
  const pids = readFileSync(join(root, cgroup, 'cgroup.procs'), 'utf8')
    .split('\n')
    .filter(Boolean);
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/) ?? [];
      if (nspid.length > 1 && nspid[nspid.length - 1] === '1') return Number(pid);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

function processesIn(root: string, cgroup: string): number {
  const path = join(root, cgroup, 'cgroup.procs');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
}

/** Stops every process group the test started, then removes its cgroups, deepest first. */
async function cleanUp(root: string): Promise<void> {
  for (const child of started) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const cgroup of [containerdScope, cgroupfsContainer, dockerContainer]) {
    await waitFor(() => processesIn(root, cgroup) === 0, `${cgroup} to empty`, 10_000);
  }
  const folders = [
    containerdScope,
    `${top}/${systemdPod}`,
    `${top}/kubepods.slice/kubepods-burstable.slice`,
    `${top}/kubepods.slice`,
    cgroupfsContainer,
    `${top}/kubepods/besteffort/pod${CGROUPFS_POD_UID}`,
    `${top}/kubepods/besteffort`,
    `${top}/kubepods`,
    dockerContainer,
    `${top}/docker`,
    top,
  ];
  for (const folder of folders) {
    if (existsSync(join(root, folder))) rmdirSync(join(root, folder));
  }
}

describe('containers on the real kernel', { skip, timeout: 120_000 }, () => {
  let root: string;
  let agent: RunningAgent;
  let client: ApiClient;
  let kubeApi: FakeKubeApi;
  const found = new Map<string, ProcessNode>();

  before(async () => {
    root = findCgroupV2Root();
    mkdirSync(join(root, containerdScope), { recursive: true });
    mkdirSync(join(root, cgroupfsContainer), { recursive: true });
    mkdirSync(join(root, dockerContainer), { recursive: true });

    // A container already running when the agent starts: found in /proc, not seen starting.
    startIn(
      root,
      dockerContainer,
      `unshare --pid --fork --mount-proc bash -c "bash -c 'sleep 60; : ${marker}-early-tree'; : ${marker}-early-init"`,
    );
    let earlyInit: number | undefined;
    await waitFor(
      () => (earlyInit = namespaceInitOf(root, dockerContainer)) !== undefined,
      'the early container init',
    );
    await waitFor(() => processesIn(root, dockerContainer) >= 4, 'the early init tree to start');

    // The cluster's API, as the stand-in serves it: the systemd-layout container is a pod of
    // a Deployment on the agent's node (startAgentProcess names it e2e).
    kubeApi = await startFakeKubeApi();
    kubeApi.put(
      deploymentPod({
        namespace: 'shop',
        name: 'web-6d4cf56db6-x7k2p',
        uid: SYSTEMD_POD_UID,
        nodeName: 'e2e',
        deployment: 'web',
        templateHash: '6d4cf56db6',
        container: {
          name: 'nginx',
          id: CONTAINERD_ID,
          image: 'docker.io/library/nginx:1.27',
          startedAt: new Date().toISOString(),
        },
      }),
    );
    agent = await startAgentProcess(join(dir, 'containers.db'), [
      '--kubeconfig',
      kubeApi.writeKubeconfig(join(dir, 'kubeconfig')),
    ]);
    client = createApiClient({ url: agent.url });

    // A container with its own pid namespace: unshare is the first process in the cgroup,
    // its forked bash pid 1 of the new namespace, with a child that stays running.
    startIn(
      root,
      containerdScope,
      `unshare --pid --fork --mount-proc bash -c "bash -c 'sleep 60; : ${marker}-tree'; : ${marker}-init"`,
    );
    let init: number | undefined;
    await waitFor(
      () => (init = namespaceInitOf(root, containerdScope)) !== undefined,
      'the container init',
    );
    // Wait for the init tree's inner bash before entering, so the order is the one a
    // container has: its own processes first.
    await waitFor(() => processesIn(root, containerdScope) >= 4, 'the init tree to start');

    // Entered from outside, as kubectl exec does: a host shell joins the container's cgroup
    // and nsenter runs a shell in its pid and mount namespaces.
    startIn(
      root,
      containerdScope,
      `nsenter -t ${init} -p -m bash -c "sleep 60; : ${marker}-entered"`,
    );
    startIn(
      root,
      dockerContainer,
      `nsenter -t ${earlyInit} -p -m bash -c "sleep 60; : ${marker}-early-entered"`,
    );
    // A container of the cgroupfs driver's layout, no namespace of its own.
    startIn(root, cgroupfsContainer, `bash -c "sleep 60; : ${marker}-cgroupfs"`);
    // And a host process beside them.
    const host = spawn('bash', ['-c', `sleep 60; : ${marker}-host`], {
      stdio: 'ignore',
      detached: true,
    });
    started.push(host);

    // Tetragon's arguments of each process the test looks at: argv[1..], quoted when spaced.
    const expected: Record<string, { binary: string; args: string }> = {
      unshare: {
        binary: '/unshare',
        args: `--pid --fork --mount-proc bash -c "bash -c 'sleep 60; : ${marker}-tree'; : ${marker}-init"`,
      },
      init: {
        binary: '/bash',
        args: `-c "bash -c 'sleep 60; : ${marker}-tree'; : ${marker}-init"`,
      },
      tree: { binary: '/bash', args: `-c "sleep 60; : ${marker}-tree"` },
      nsenter: {
        binary: '/nsenter',
        args: `-t ${init} -p -m bash -c "sleep 60; : ${marker}-entered"`,
      },
      entered: { binary: '/bash', args: `-c "sleep 60; : ${marker}-entered"` },
      cgroupfs: { binary: '/bash', args: `-c "sleep 60; : ${marker}-cgroupfs"` },
      host: { binary: '/bash', args: `-c "sleep 60; : ${marker}-host"` },
      earlyTree: { binary: '/bash', args: `-c "sleep 60; : ${marker}-early-tree"` },
      earlyEntered: { binary: '/bash', args: `-c "sleep 60; : ${marker}-early-entered"` },
    };
    const deadline = Date.now() + 20_000;
    while (found.size < Object.keys(expected).length) {
      assert.ok(Date.now() < deadline, `every test process in the API; found ${[...found.keys()]}`);
      const { items } = await client.trpc.process.search.query({ args: marker, limit: 50 });
      for (const [name, { binary, args }] of Object.entries(expected)) {
        const item = items.find((p) => p.arguments === args && p.binary?.endsWith(binary));
        if (item) found.set(name, item);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });

  after(async () => {
    try {
      if (root) await cleanUp(root);
    } finally {
      await client?.close();
      await kubeApi?.close();
      agent?.child.kill('SIGTERM');
      if (agent) await collect(agent.child, 10_000);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('processes in a kubelet systemd-driver cgroup carry the container id and pod UID', () => {
    for (const name of ['unshare', 'init', 'tree', 'nsenter', 'entered']) {
      const process = found.get(name)!;
      assert.equal(process.docker, CONTAINERD_ID, `${name}: docker`);
      assert.equal(process.pod?.uid, SYSTEMD_POD_UID, `${name}: pod uid`);
      assert.equal(
        process.pod?.container?.id,
        `containerd://${CONTAINERD_ID}`,
        `${name}: container id as Kubernetes writes it`,
      );
    }
  });

  test('with the cluster API, processes of a pod carry its metadata; others do not', () => {
    for (const name of ['init', 'tree', 'entered']) {
      const pod = found.get(name)!.pod;
      assert.equal(pod?.namespace, 'shop', `${name}: namespace`);
      assert.equal(pod?.name, 'web-6d4cf56db6-x7k2p', `${name}: pod name`);
      assert.equal(pod?.workload, 'web');
      assert.equal(pod?.workload_kind, 'Deployment');
      assert.equal(pod?.container?.name, 'nginx');
      assert.equal(pod?.container?.image?.name, 'docker.io/library/nginx:1.27');
      assert.equal(pod?.pod_labels?.app, 'web');
    }
    assert.equal(found.get('cgroupfs')!.pod?.name, undefined, 'a pod the API does not list');
    assert.ok(
      kubeApi.requests.every((r) => r.query.get('fieldSelector') === 'spec.nodeName=e2e'),
      'only the node’s own pods were asked for',
    );
  });

  test('the container init and its descendants are in the init tree, the entered shell is not', () => {
    assert.equal(found.get('unshare')!.in_init_tree, true, 'the first process in the cgroup');
    assert.equal(found.get('init')!.pod?.container?.pid, 1, 'pid 1 inside the container');
    assert.ok((found.get('tree')!.pod?.container?.pid ?? 0) > 1, 'a later pid inside it');
    assert.ok((found.get('entered')!.pod?.container?.pid ?? 0) > 1);
    assert.equal(found.get('init')!.in_init_tree, true, 'pid 1 of the container namespace');
    assert.equal(found.get('tree')!.in_init_tree, true);
    assert.equal(found.get('nsenter')!.in_init_tree, false);
    assert.equal(found.get('entered')!.in_init_tree, false);
    assert.ok(found.get('init')!.ns?.pid?.is_host === false, 'the init has its own pid namespace');
    assert.equal(
      found.get('entered')!.ns?.pid?.inum,
      found.get('init')!.ns?.pid?.inum,
      'nsenter put the shell in the container pid namespace',
    );
  });

  test('the container start is its first process start, the same on every process in it', () => {
    const start = found.get('init')!.pod?.container?.start_time;
    assert.ok(start, 'a container start time');
    assert.ok(start <= found.get('init')!.start_time!, 'the container started before its pid 1');
    assert.equal(found.get('tree')!.pod?.container?.start_time, start);
    assert.equal(found.get('entered')!.pod?.container?.start_time, start);
  });

  test('a cgroupfs-driver container (bare id under pod<uid>) and a host process', () => {
    const cgroupfs = found.get('cgroupfs')!;
    assert.equal(cgroupfs.docker, CGROUPFS_ID);
    assert.equal(cgroupfs.pod?.uid, CGROUPFS_POD_UID);
    assert.equal(cgroupfs.in_init_tree, true, 'its first process');
    const host = found.get('host')!;
    assert.equal(host.docker, undefined);
    assert.equal(host.pod, undefined);
    assert.equal(host.in_init_tree, undefined);
  });

  test('a Docker container running before the agent started: found in /proc and placed', () => {
    const tree = found.get('earlyTree')!;
    assert.match(tree.flags ?? '', /procFS/, 'seen in the start-up snapshot');
    assert.equal(tree.docker, DOCKER_ID);
    assert.equal(tree.pod?.uid, undefined, 'no pod outside kubelet');
    assert.equal(tree.in_init_tree, true);
    const entered = found.get('earlyEntered')!;
    assert.equal(entered.docker, DOCKER_ID);
    assert.equal(entered.in_init_tree, false, 'entered after the agent started');
    assert.equal(entered.pod?.container?.start_time, tree.pod?.container?.start_time);
  });

  test('the stored execution rows hold the container id and in_init_tree', async () => {
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(dir, 'containers.db'), { readonly: true });
    try {
      const rows = db
        .prepare(
          `SELECT arguments, container_id, in_init_tree, pod_namespace, pod_name
           FROM executions WHERE arguments LIKE ?`,
        )
        .all(`%${marker}-%`) as Array<{
        arguments: string;
        container_id: string | null;
        in_init_tree: number | null;
        pod_namespace: string | null;
        pod_name: string | null;
      }>;
      const row = (name: string) => rows.find((r) => r.arguments === found.get(name)!.arguments);
      assert.equal(row('tree')?.container_id, CONTAINERD_ID);
      assert.equal(row('tree')?.in_init_tree, 1);
      assert.equal(row('tree')?.pod_namespace, 'shop');
      assert.equal(row('tree')?.pod_name, 'web-6d4cf56db6-x7k2p');
      assert.equal(row('entered')?.in_init_tree, 0);
      assert.equal(row('host')?.container_id, null);
      assert.equal(row('host')?.in_init_tree, null);
    } finally {
      db.close();
    }
  });
});
