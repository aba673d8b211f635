import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TetragonProcess } from '@proctrail/schema';
import { ContainerTracker } from './container-tracker';

const ID = '551e161c47d8ff0eb665438a7bcd5b4a1f3e9c2d7b8a6f5e4d3c2b1a0f9e8d7c';
const UID = '7a1c2f5e-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
const POD_CGROUP = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replaceAll('-', '_')}.slice`;
const CONTAINER_CGROUP = `${POD_CGROUP}/cri-containerd-${ID}.scope`;
const HOST_PID_NS = 4026531836;
const CONTAINER_PID_NS = 4026532999;

let seq = 0;
/** A process image as the event builder makes it at exec, in a pid namespace. */
function proc(binary: string, pidNamespace = HOST_PID_NS): TetragonProcess {
  seq++;
  return {
    exec_id: `exec-${seq}`,
    pid: 1000 + seq,
    binary,
    start_time: `2026-12-04T16:00:${String(seq).padStart(2, '0')}.000000000Z`,
    ns: { pid: { inum: pidNamespace, is_host: pidNamespace === HOST_PID_NS } },
  };
}

describe('ContainerTracker', () => {
  test('a host process gets no container fields', () => {
    const tracker = new ContainerTracker();
    const bash = proc('/usr/bin/bash');
    tracker.place(bash, undefined, '/user.slice/session-1.scope');
    assert.equal(bash.docker, undefined);
    assert.equal(bash.in_init_tree, undefined);
    assert.equal(bash.pod, undefined);
  });

  test('the first process in a container is its init; its start is the container start', () => {
    const tracker = new ContainerTracker();
    const shim = proc('/usr/bin/containerd-shim-runc-v2');
    tracker.place(shim, undefined, '/system.slice/containerd.service');
    const init = proc('/pause', CONTAINER_PID_NS);
    tracker.place(init, shim, CONTAINER_CGROUP);
    assert.equal(init.docker, ID);
    assert.equal(init.in_init_tree, true);
    assert.deepEqual(init.pod, {
      uid: UID,
      container: { id: `containerd://${ID}`, start_time: init.start_time },
    });
    assert.equal(tracker.container(ID)?.initExecId, init.exec_id);
    assert.equal(tracker.container(ID)?.pidNamespace, CONTAINER_PID_NS);

    const child = proc('/bin/sh', CONTAINER_PID_NS);
    tracker.place(child, init, CONTAINER_CGROUP);
    assert.equal(child.in_init_tree, true);
    assert.equal(child.pod?.container?.start_time, init.start_time);
  });

  test('a process whose parent is outside the container was entered, and so are its children', () => {
    const tracker = new ContainerTracker();
    const init = proc('/app', CONTAINER_PID_NS);
    tracker.place(init, proc('/usr/bin/runc'), CONTAINER_CGROUP);
    // kubectl exec: runc (host) starts a shell inside the container's cgroup and namespaces.
    const runc = proc('/usr/bin/runc');
    tracker.place(runc, undefined, '/system.slice/containerd.service');
    const shell = proc('/bin/sh', CONTAINER_PID_NS);
    tracker.place(shell, runc, CONTAINER_CGROUP);
    assert.equal(shell.in_init_tree, false);
    assert.equal(shell.docker, ID);
    const curl = proc('/usr/bin/curl', CONTAINER_PID_NS);
    tracker.place(curl, shell, CONTAINER_CGROUP);
    assert.equal(curl.in_init_tree, false, 'descends from the entered shell');
  });

  test('unshare: the init tree may be in the host pid namespace and make the container one', () => {
    const tracker = new ContainerTracker();
    const outside = proc('/usr/bin/bash');
    tracker.place(outside, undefined, '/');
    // bash moved itself into the cgroup and exec'd unshare (no fork): unshare is the first.
    const unshare = proc('/usr/bin/unshare');
    tracker.place(unshare, outside, CONTAINER_CGROUP);
    assert.equal(unshare.in_init_tree, true);
    const pidOne = proc('/usr/bin/bash', CONTAINER_PID_NS);
    tracker.place(pidOne, unshare, CONTAINER_CGROUP);
    assert.equal(pidOne.in_init_tree, true);
    assert.equal(tracker.container(ID)?.pidNamespace, CONTAINER_PID_NS);

    // nsenter from the host into the container's namespace: the container's init tree
    // holds nsenter's child only if it came from inside.
    const enteringShell = proc('/usr/bin/bash');
    tracker.place(enteringShell, undefined, '/');
    const nsenter = proc('/usr/bin/nsenter');
    tracker.place(nsenter, enteringShell, CONTAINER_CGROUP);
    assert.equal(nsenter.in_init_tree, false);
    const entered = proc('/usr/bin/sleep', CONTAINER_PID_NS);
    tracker.place(entered, nsenter, CONTAINER_CGROUP);
    assert.equal(entered.in_init_tree, false);

    // A member of the init tree still in the host namespace that enters the container's
    // namespace afterwards (as nsenter would) is entering it, not starting it.
    const late = proc('/usr/bin/sleep', CONTAINER_PID_NS);
    tracker.place(late, unshare, CONTAINER_CGROUP);
    assert.equal(late.in_init_tree, false);
  });

  test('pid 1 of the container namespace is its init even after another process was seen', () => {
    const tracker = new ContainerTracker();
    // runc init's own exec comes first in the cgroup, still in the host pid namespace...
    const runcInit = proc('/usr/bin/runc');
    tracker.place(runcInit, proc('/usr/bin/containerd-shim-runc-v2'), CONTAINER_CGROUP, 900);
    // ...then the image's entrypoint is pid 1 of the new namespace, its parent runc's fork.
    const entrypoint = proc('/docker-entrypoint.sh', CONTAINER_PID_NS);
    tracker.place(entrypoint, proc('/usr/bin/runc'), CONTAINER_CGROUP, 1);
    assert.equal(entrypoint.in_init_tree, true);
    assert.equal(entrypoint.pod?.container?.pid, 1);
    assert.equal(tracker.container(ID)?.pidNamespace, CONTAINER_PID_NS);
    assert.equal(
      entrypoint.pod?.container?.start_time,
      runcInit.start_time,
      'the container started with the first process seen in it',
    );

    const child = proc('/usr/sbin/nginx', CONTAINER_PID_NS);
    tracker.place(child, entrypoint, CONTAINER_CGROUP, 7);
    assert.equal(child.in_init_tree, true);
    assert.equal(child.pod?.container?.pid, 7, 'the pid inside the container');
    // kubectl exec: runc's child in the container namespace, not pid 1 there.
    const shell = proc('/bin/sh', CONTAINER_PID_NS);
    tracker.place(shell, proc('/usr/bin/runc'), CONTAINER_CGROUP, 12);
    assert.equal(shell.in_init_tree, false);
  });

  test('an entered shell cannot make itself an init with a pid namespace of its own', () => {
    const tracker = new ContainerTracker();
    const init = proc('/app', CONTAINER_PID_NS);
    tracker.place(init, proc('/usr/bin/runc'), CONTAINER_CGROUP, 1);
    const shell = proc('/bin/sh', CONTAINER_PID_NS);
    tracker.place(shell, proc('/usr/bin/runc'), CONTAINER_CGROUP, 9);
    assert.equal(shell.in_init_tree, false);
    // kubectl exec, then `unshare --pid --fork sh`: pid 1 of a namespace nested in the
    // container's, under an entered process.
    const nested = proc('/bin/sh', CONTAINER_PID_NS + 1);
    tracker.place(nested, shell, CONTAINER_CGROUP, 1);
    assert.equal(nested.in_init_tree, false);
    assert.equal(tracker.container(ID)?.pidNamespace, CONTAINER_PID_NS, 'unchanged');
    // The init tree may nest namespaces of its own.
    const sandbox = proc('/usr/bin/sandboxed', CONTAINER_PID_NS + 2);
    tracker.place(sandbox, init, CONTAINER_CGROUP, 1);
    assert.equal(sandbox.in_init_tree, true);
  });

  test('a parent in another container does not make a process part of this one', () => {
    const tracker = new ContainerTracker();
    const other = 'ab'.repeat(32);
    const init = proc('/app', CONTAINER_PID_NS);
    tracker.place(init, undefined, CONTAINER_CGROUP);
    const sidecar = proc('/sidecar');
    tracker.place(sidecar, undefined, `${POD_CGROUP}/cri-containerd-${other}.scope`);
    const child = proc('/bin/sh', CONTAINER_PID_NS);
    tracker.place(child, sidecar, CONTAINER_CGROUP);
    assert.equal(child.in_init_tree, false);
    assert.equal(sidecar.in_init_tree, true, 'the sidecar is its own container init');
  });
});
