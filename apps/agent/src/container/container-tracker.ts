/**
 * Which container each new process runs in, whether it descends from the container's own init
 * (Tetragon's `in_init_tree`), and when the container started. The kernel says which cgroup and
 * pid namespace a process is in; the rest follows from the order the agent sees execs in:
 *
 * - The container's init is the first process seen in its cgroup: runtimes put the init there
 *   before it runs the image's entrypoint, and that is the earliest exec in the cgroup.
 * - A process whose parent is in the same container inherits the parent's flag: it is in the
 *   init tree when its parent is, and stays outside when its parent was entered.
 * - A process whose parent is outside the container (runc for `kubectl exec` and `docker exec`,
 *   nsenter, a shell that moved itself into the cgroup) was entered: not in the init tree.
 * - The first process of a new pid namespace in the container (pid 1 there, as after
 *   `unshare --pid --fork`) continues its parent's flag; a later arrival in that namespace
 *   from outside it (nsenter) was entered.
 *
 * The container's start time is its init's start.
 */
import type { TetragonProcess } from '@proctrail/schema';
import { parseCgroupPath, type CgroupIdentity, type ContainerRuntime } from './cgroup-path';

/** The scheme Kubernetes puts before a container id, by runtime. */
const RUNTIME_SCHEMES: Record<ContainerRuntime, string> = {
  containerd: 'containerd',
  'cri-o': 'cri-o',
  docker: 'docker',
  podman: 'podman',
};

export interface ContainerState {
  containerId: string;
  podUid?: string;
  /** The exec_id of the first process seen in the container: its init. */
  initExecId: string;
  /** The init's start time (RFC 3339): the container's start. */
  startTime: string;
  /** The container's own pid namespace (inode), once a process has entered one. */
  pidNamespace?: number;
}

/** Containers remembered; beyond this the least recently started are forgotten. */
const CONTAINERS_KEPT = 20_000;
/** Distinct cgroup paths whose parse is remembered (one per container and host service). */
const PATHS_KEPT = 50_000;

export class ContainerTracker {
  private readonly containers = new Map<string, ContainerState>();
  private readonly identities = new Map<string, CgroupIdentity>();

  /** What a cgroup path names, parsed once per path. */
  identify(cgroupPath: string): CgroupIdentity {
    let identity = this.identities.get(cgroupPath);
    if (!identity) {
      if (this.identities.size >= PATHS_KEPT) this.identities.clear();
      identity = parseCgroupPath(cgroupPath);
      this.identities.set(cgroupPath, identity);
    }
    return identity;
  }

  container(containerId: string): ContainerState | undefined {
    return this.containers.get(containerId);
  }

  /**
   * Sets `docker`, `pod.uid`, `pod.container` (id, start time, pid inside the container) and
   * `in_init_tree` on a new process image from its cgroup path; `parent` is the process it
   * descends from (the forking process, or the pid's previous image after an exec without a
   * fork); `pidInNamespace` the pid its own pid namespace gives it, when known. A host process
   * gets none of them.
   */
  place(
    process: TetragonProcess,
    parent: TetragonProcess | undefined,
    cgroupPath: string,
    pidInNamespace?: number,
  ): void {
    const identity = this.identify(cgroupPath);
    if (!identity.containerId) {
      if (identity.podUid) process.pod = { uid: identity.podUid };
      return;
    }

    const containerId = identity.containerId;
    let state = this.containers.get(containerId);
    const namespaceInit = this.isNamespaceInit(containerId, process, parent, state, pidInNamespace);
    const inInitTree =
      !state || namespaceInit ? true : this.descendsFromInit(process, parent, state);
    if (!state) {
      state = {
        containerId,
        initExecId: process.exec_id ?? '',
        startTime: process.start_time ?? '',
      };
      if (identity.podUid) state.podUid = identity.podUid;
      this.remember(state);
    }
    if (namespaceInit) state.pidNamespace = process.ns?.pid?.inum;
    else if (inInitTree && !state.pidNamespace && entersPidNamespace(process, parent)) {
      state.pidNamespace = process.ns?.pid?.inum;
    }

    process.docker = containerId;
    process.in_init_tree = inInitTree;
    process.pod = {
      ...(state.podUid ? { uid: state.podUid } : {}),
      container: {
        // As the cluster writes it ("containerd://<id>") when the cgroup says which runtime.
        id: identity.runtime
          ? `${RUNTIME_SCHEMES[identity.runtime]}://${containerId}`
          : containerId,
        ...(state.startTime ? { start_time: state.startTime } : {}),
        ...(pidInNamespace ? { pid: pidInNamespace } : {}),
      },
    };
  }

  /**
   * Learns a container from a process a previous run of the agent stored (it keeps its exec_id
   * and its flags across the restart): the first such member of the init tree stands for the
   * container's init, with the container start the previous run saw.
   */
  adopt(process: TetragonProcess): void {
    const containerId = process.docker;
    if (!containerId || this.containers.has(containerId) || process.in_init_tree !== true) return;
    const state: ContainerState = {
      containerId,
      initExecId: process.exec_id ?? '',
      startTime: process.pod?.container?.start_time ?? process.start_time ?? '',
    };
    if (process.pod?.uid) state.podUid = process.pod.uid;
    this.remember(state);
  }

  /**
   * pid 1 of the container's own pid namespace (the host's pid 1 is never in a container's
   * cgroup) is its init, whatever the agent saw in the cgroup before it (runc's own exec, for
   * one). Not so for pid 1 of a namespace made inside the container once it has one (nested),
   * nor under an entered process: `kubectl exec` then `unshare --pid --fork` stays entered.
   */
  private isNamespaceInit(
    containerId: string,
    process: TetragonProcess,
    parent: TetragonProcess | undefined,
    state: ContainerState | undefined,
    pidInNamespace: number | undefined,
  ): boolean {
    const namespace = process.ns?.pid?.inum;
    if (pidInNamespace !== 1 || namespace === undefined) return false;
    if (state?.pidNamespace !== undefined && state.pidNamespace !== namespace) return false;
    return !(parent?.docker === containerId && parent.in_init_tree === false);
  }

  private descendsFromInit(
    process: TetragonProcess,
    parent: TetragonProcess | undefined,
    state: ContainerState,
  ): boolean {
    if (!parent || parent.docker !== state.containerId) return false;
    if (parent.in_init_tree !== true) return false;
    if (!entersPidNamespace(process, parent)) return true;
    // A new pid namespace: the first one the init tree makes is the container's own (its
    // pid 1); arriving in the container's namespace from outside it is entering.
    return state.pidNamespace === undefined || state.pidNamespace !== process.ns?.pid?.inum;
  }

  private remember(state: ContainerState): void {
    if (this.containers.size >= CONTAINERS_KEPT) {
      const oldest = this.containers.keys().next().value;
      if (oldest !== undefined) this.containers.delete(oldest);
    }
    this.containers.set(state.containerId, state);
  }
}

/** The process is in a pid namespace other than its parent's and the host's. */
function entersPidNamespace(
  process: TetragonProcess,
  parent: TetragonProcess | undefined,
): boolean {
  const own = process.ns?.pid;
  if (!own?.inum || own.is_host) return false;
  return own.inum !== parent?.ns?.pid?.inum;
}
