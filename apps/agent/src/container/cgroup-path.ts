/**
 * What a process's cgroup path says about its container: the container id the runtime named
 * the cgroup after, and the pod UID kubelet named the pod's cgroup after. Runtimes and kubelet
 * choose these names, the kernel only reports the path, so this is the one place that knows
 * their layouts.
 *
 * Layouts recognised (each under any prefix, for nested setups such as kind, where a whole
 * node runs inside a Docker container and its pods' cgroups sit below that container's):
 * - kubelet, systemd driver: `kubepods.slice/kubepods-burstable.slice/
 *   kubepods-burstable-pod<uid with _ for ->.slice/<runtime scope>`; Guaranteed pods sit
 *   directly in `kubepods.slice` (`kubepods-pod<uid>.slice`).
 * - kubelet, cgroupfs driver: `/kubepods/burstable/pod<uid>/<container id>` (also
 *   `/kubepods/pod<uid>/...` for Guaranteed pods).
 * - runtime scopes (systemd driver): `cri-containerd-<id>.scope`, `crio-<id>.scope`,
 *   `docker-<id>.scope`, `libpod-<id>.scope` (podman).
 * - runtime folders (cgroupfs driver): `/docker/<id>`, `/containerd/<id>`, `/libpod_parent/
 *   libpod-<id>`, and a bare 64-hex folder under a pod's cgroup.
 *
 * The same names appear in cgroup v1 (per controller) and v2 (one tree): the parser reads one
 * path, whichever hierarchy it came from.
 */

export type ContainerRuntime = 'containerd' | 'cri-o' | 'docker' | 'podman';

export interface CgroupIdentity {
  /** The full container id (64 lower-case hex digits), when the path names one. */
  containerId?: string;
  /** The runtime whose naming the container's cgroup follows, when it says. */
  runtime?: ContainerRuntime;
  /** The pod's UID in its usual form (with dashes), when the path is under kubelet's tree. */
  podUid?: string;
}

const HEX64 = '[0-9a-f]{64}';

/** Scope or folder names that are a container, with the runtime that names them so. */
const CONTAINER_SEGMENTS: Array<{ pattern: RegExp; runtime?: ContainerRuntime }> = [
  { pattern: new RegExp(`^cri-containerd-(${HEX64})\\.scope$`), runtime: 'containerd' },
  { pattern: new RegExp(`^crio-(${HEX64})\\.scope$`), runtime: 'cri-o' },
  { pattern: new RegExp(`^docker-(${HEX64})\\.scope$`), runtime: 'docker' },
  { pattern: new RegExp(`^libpod-(${HEX64})(?:\\.scope)?$`), runtime: 'podman' },
  // cgroupfs driver: kubelet's runtimes name the folder by the bare id; which runtime made it
  // the path does not say.
  { pattern: new RegExp(`^(${HEX64})$`) },
];

/** Folders a runtime keeps its cgroupfs-driver containers in, by the runtime. */
const RUNTIME_PARENTS: Record<string, ContainerRuntime> = {
  docker: 'docker',
  containerd: 'containerd',
  libpod_parent: 'podman',
};

/**
 * Pod cgroups: `pod<uid>` (cgroupfs) or `kubepods[-<qos>]-pod<uid_with_underscores>.slice`
 * (systemd; with a prefix when kubelet's cgroup root is itself a slice, as kind's
 * `kubelet-kubepods-...`). A UID is 8-4-4-4-12 hex digits; in a systemd slice name `-` means
 * nesting, so kubelet writes the UID with `_`.
 */
const POD_CGROUPFS = /^pod([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const POD_SYSTEMD =
  /^(?:[a-z0-9_.]+-)?kubepods(?:-(?:burstable|besteffort))?-pod([0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12})\.slice$/;

/**
 * The container id and pod UID a cgroup path names; an empty object for host processes.
 * The deepest container in the path wins (the pod's, not the kind node's around it), and a
 * pod UID counts only above that container. Limitation: a bare 64-hex folder counts as a
 * container only under a pod's cgroup or a runtime's folder, so other software that names
 * cgroups by 64 hex digits is not mistaken for one.
 */
export function parseCgroupPath(path: string): CgroupIdentity {
  const segments = path.split('/').filter(Boolean);
  let identity: CgroupIdentity = {};
  let podUid: string | undefined;

  segments.forEach((segment, index) => {
    const pod = podUidOf(segment);
    if (pod) {
      podUid = pod;
      return;
    }
    const container = containerOf(segment, segments[index - 1], podUid);
    if (!container) return;
    identity = { ...container };
    if (podUid) identity.podUid = podUid;
    podUid = undefined;
  });
  // A process in a pod's own cgroup, outside its containers (rare: the pause process under
  // some runtimes), still belongs to the pod.
  if (podUid && !identity.podUid && !identity.containerId) identity.podUid = podUid;
  return identity;
}

function podUidOf(segment: string): string | undefined {
  const cgroupfs = POD_CGROUPFS.exec(segment);
  if (cgroupfs) return cgroupfs[1];
  const systemd = POD_SYSTEMD.exec(segment);
  return systemd ? systemd[1]!.replaceAll('_', '-') : undefined;
}

function containerOf(
  segment: string,
  parentSegment: string | undefined,
  podUidAbove: string | undefined,
): Pick<CgroupIdentity, 'containerId' | 'runtime'> | undefined {
  for (const { pattern, runtime } of CONTAINER_SEGMENTS) {
    const match = pattern.exec(segment);
    if (!match) continue;
    const fromParent = parentSegment ? RUNTIME_PARENTS[parentSegment] : undefined;
    if (!runtime && !fromParent && !podUidAbove) return undefined;
    const named = runtime ?? fromParent;
    return named ? { containerId: match[1]!, runtime: named } : { containerId: match[1]! };
  }
  return undefined;
}
