import type { TetragonPod } from '@proctrail/schema';

/**
 * Pod metadata by container id, as the cluster's API describes the pods of this node. The
 * event builder asks it for every event of a process in a container, so lookups must be cheap
 * and an unchanged pod must come back as the same object.
 */
export interface PodDirectory {
  /** The pod (with `container` for this container) a container id belongs to, if known. */
  podOf(containerId: string): TetragonPod | undefined;
  /** The container's exec probe commands (liveness, readiness, startup), argv each. */
  probeCommandsOf?(containerId: string): readonly (readonly string[])[] | undefined;
}
