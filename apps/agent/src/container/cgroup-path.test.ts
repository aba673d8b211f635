import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCgroupPath } from './cgroup-path';

// Ids and UIDs of the shape runtimes and kubelet write (from `cat /proc/PID/cgroup` on nodes).
const ID = '551e161c47d8ff0eb665438a7bcd5b4a1f3e9c2d7b8a6f5e4d3c2b1a0f9e8d7c';
const OTHER_ID = 'b951e7f88447c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7';
const UID = '7a1c2f5e-3b4d-4e6f-8a9b-0c1d2e3f4a5b';
const UID_ = UID.replaceAll('-', '_');

describe('parseCgroupPath', () => {
  test('reads containerd under kubelet systemd driver (cgroup v2), burstable pod', () => {
    const path = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID_}.slice/cri-containerd-${ID}.scope`;
    assert.deepEqual(parseCgroupPath(path), {
      containerId: ID,
      runtime: 'containerd',
      podUid: UID,
    });
  });

  test('reads a Guaranteed pod, which sits directly in kubepods.slice', () => {
    const path = `/kubepods.slice/kubepods-pod${UID_}.slice/cri-containerd-${ID}.scope`;
    assert.equal(parseCgroupPath(path).podUid, UID);
    assert.equal(parseCgroupPath(path).containerId, ID);
  });

  test('reads a BestEffort pod under CRI-O and keeps conmon out', () => {
    const pod = `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID_}.slice`;
    assert.deepEqual(parseCgroupPath(`${pod}/crio-${ID}.scope`), {
      containerId: ID,
      runtime: 'cri-o',
      podUid: UID,
    });
    // conmon, CRI-O's monitor, runs in its own scope beside the container: it is the pod's,
    // not the container's.
    assert.deepEqual(parseCgroupPath(`${pod}/crio-conmon-${ID}.scope`), { podUid: UID });
  });

  test('reads kubelet cgroupfs driver layouts (cgroup v1 controller paths and v2 alike)', () => {
    assert.deepEqual(parseCgroupPath(`/kubepods/burstable/pod${UID}/${ID}`), {
      containerId: ID,
      podUid: UID,
    });
    assert.deepEqual(parseCgroupPath(`/kubepods/pod${UID}/${ID}`), {
      containerId: ID,
      podUid: UID,
    });
    assert.deepEqual(parseCgroupPath(`/kubepods/besteffort/pod${UID}`), { podUid: UID });
  });

  test('reads Docker and containerd outside Kubernetes', () => {
    assert.deepEqual(parseCgroupPath(`/system.slice/docker-${ID}.scope`), {
      containerId: ID,
      runtime: 'docker',
    });
    assert.deepEqual(parseCgroupPath(`/docker/${ID}`), { containerId: ID, runtime: 'docker' });
    assert.deepEqual(parseCgroupPath(`/containerd/${ID}`), {
      containerId: ID,
      runtime: 'containerd',
    });
    assert.deepEqual(parseCgroupPath(`/machine.slice/libpod-${ID}.scope`), {
      containerId: ID,
      runtime: 'podman',
    });
  });

  test('takes the innermost container: a pod of a kind node running inside Docker', () => {
    const path = `/docker/${OTHER_ID}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod${UID_}.slice/cri-containerd-${ID}.scope`;
    assert.deepEqual(parseCgroupPath(path), {
      containerId: ID,
      runtime: 'containerd',
      podUid: UID,
    });
  });

  test('a sub-cgroup a container made inside its own (systemd in a container) is still it', () => {
    const path = `/system.slice/docker-${ID}.scope/init.scope`;
    assert.equal(parseCgroupPath(path).containerId, ID);
  });

  test('host processes and look-alikes name no container', () => {
    assert.deepEqual(parseCgroupPath('/'), {});
    assert.deepEqual(parseCgroupPath(''), {});
    assert.deepEqual(parseCgroupPath('/user.slice/user-1000.slice/session-3.scope'), {});
    assert.deepEqual(parseCgroupPath('/system.slice/containerd.service'), {});
    // A 64-hex folder outside any runtime or pod folder, and a 32-hex one (this build
    // machine's own memory cgroup is /process_api/<32 hex>).
    assert.deepEqual(parseCgroupPath(`/somewhere/${ID}`), {});
    assert.deepEqual(parseCgroupPath('/process_api/34163f98a6695526a772b9c628889e72'), {});
    // Upper-case hex, a short id and a UID with the wrong separators are not kubelet's names.
    assert.deepEqual(parseCgroupPath(`/docker/${ID.toUpperCase()}`), {});
    assert.deepEqual(parseCgroupPath(`/docker/${ID.slice(0, 63)}`), {});
    assert.deepEqual(parseCgroupPath(`/kubepods/burstable/pod${UID_}`), {});
    assert.deepEqual(
      parseCgroupPath(`/kubepods.slice/kubepods-burstable-pod${UID}.slice`),
      {},
      'a systemd slice writes the UID with underscores',
    );
  });
});
