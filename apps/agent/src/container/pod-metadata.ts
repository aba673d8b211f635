/**
 * A Kubernetes pod as Tetragon describes it on a process: one `pod` object per container of
 * the pod, keyed by the container id the kernel's cgroup path names.
 */
import type { V1ContainerStatus, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { containerIdOf, type TetragonPod } from '@proctrail/schema';

/**
 * The workload a pod belongs to, from its controlling owner: a ReplicaSet made by a Deployment
 * is named `<deployment>-<pod-template-hash>`, so the Deployment is its name without that
 * suffix (the API would need one more read per ReplicaSet to say it; the name is how Tetragon
 * tells too). A pod without an owner is its own workload.
 */
export function workloadOf(pod: V1Pod): { workload: string; workload_kind: string } {
  const owners: V1OwnerReference[] = pod.metadata?.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller) ?? owners[0];
  const podName = pod.metadata?.name ?? '';
  if (!owner) return { workload: podName, workload_kind: 'Pod' };
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    const deployment =
      hash && owner.name.endsWith(`-${hash}`)
        ? owner.name.slice(0, -(hash.length + 1))
        : /^(.+)-[a-z0-9]{5,10}$/.exec(owner.name)?.[1];
    if (deployment) return { workload: deployment, workload_kind: 'Deployment' };
  }
  return { workload: owner.name, workload_kind: owner.kind };
}

/**
 * The `pod` object of each container of a pod that runs or ran (the API has given it an id),
 * by bare container id. Init and ephemeral (kubectl debug) containers count too.
 */
export function podsByContainer(pod: V1Pod): Map<string, TetragonPod> {
  const byContainer = new Map<string, TetragonPod>();
  const metadata = pod.metadata ?? {};
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  const specs = [
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ];
  const shared: TetragonPod = {
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    ...(metadata.name ? { name: metadata.name } : {}),
    ...(metadata.uid ? { uid: metadata.uid } : {}),
    ...(metadata.labels ? { pod_labels: { ...metadata.labels } } : {}),
    ...workloadOf(pod),
  };

  for (const status of statuses) {
    if (!status.containerID) continue;
    const startedAt = status.state?.running?.startedAt ?? status.state?.terminated?.startedAt;
    const privileged = specs.find((s) => s.name === status.name)?.securityContext?.privileged;
    byContainer.set(containerIdOf({ pod: { container: { id: status.containerID } } })!, {
      ...shared,
      container: {
        id: status.containerID,
        name: status.name,
        image: { id: status.imageID, name: status.image },
        ...(startedAt ? { start_time: toRfc3339(startedAt) } : {}),
        ...(privileged !== undefined ? { security_context: { privileged } } : {}),
      },
    });
  }
  return byContainer;
}

/** The client hands times over as Date objects (parsed from the API's RFC 3339 text). */
function toRfc3339(time: Date | string): string {
  return typeof time === 'string' ? time : time.toISOString().replace('.000Z', 'Z');
}

/**
 * Each container's exec probe commands (liveness, readiness and startup probes of kind exec),
 * by bare container id: kubelet runs them inside the container from outside its init tree.
 */
export function probeCommandsByContainer(pod: V1Pod): Map<string, string[][]> {
  const byContainer = new Map<string, string[][]>();
  const specs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const statuses = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const spec = specs.find((s) => s.name === status.name);
    if (!status.containerID || !spec) continue;
    const commands = [spec.livenessProbe, spec.readinessProbe, spec.startupProbe]
      .map((probe) => probe?.exec?.command)
      .filter((command): command is string[] => Array.isArray(command) && command.length > 0);
    if (commands.length) {
      byContainer.set(containerIdOf({ pod: { container: { id: status.containerID } } })!, commands);
    }
  }
  return byContainer;
}
