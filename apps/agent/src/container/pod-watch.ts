/**
 * The pods of the agent's own node, watched through the Kubernetes API (list, then watch from
 * the list's resourceVersion, with @kubernetes/client-node's ListWatch), as a PodDirectory.
 * Only this node's pods are asked for (fieldSelector spec.nodeName), which is all the kernel
 * can show processes of and what the DaemonSet's role allows.
 */
import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig, ListWatch, Watch, type V1Pod } from '@kubernetes/client-node';
import type { TetragonPod } from '@proctrail/schema';
import type { Logger } from 'pino';
import type { PodDirectory } from './pod-directory';
import { podsByContainer, probeCommandsByContainer } from './pod-metadata';

/** Where kubelet mounts a pod's service-account token. */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * How to reach the cluster's API: the kubeconfig file given, or inside a pod its service
 * account (token mounted and KUBERNETES_SERVICE_HOST set); otherwise undefined, and the
 * agent asks nothing.
 */
export function clusterConfig(
  kubeconfigPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  tokenPath = SERVICE_ACCOUNT_TOKEN,
): KubeConfig | undefined {
  const config = new KubeConfig();
  if (kubeconfigPath) {
    if (!existsSync(kubeconfigPath)) {
      throw new Error(`--kubeconfig ${kubeconfigPath}: no such file`);
    }
    try {
      config.loadFromFile(kubeconfigPath);
    } catch (error) {
      throw new Error(`--kubeconfig ${kubeconfigPath}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (!config.getCurrentCluster()?.server) {
      throw new Error(
        `--kubeconfig ${kubeconfigPath}: its current context (${config.getCurrentContext() || 'none'}) names no cluster with a server`,
      );
    }
    return config;
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(tokenPath)) {
    config.loadFromCluster();
    return config;
  }
  return undefined;
}

export interface PodWatchOptions {
  nodeName: string;
  logger: Logger;
  /**
   * How long a deleted pod's metadata still answers: its processes' exits come after the
   * API's delete, and should still name it. 60 s by default.
   */
  deletedPodGraceMs?: number;
  /** Wait before listing again after the API failed; 5 s by default. */
  retryDelayMs?: number;
  /** How long start() waits for the first list; the agent records meanwhile. 5 s by default. */
  firstListTimeoutMs?: number;
}

export class PodWatch implements PodDirectory {
  private readonly byContainer = new Map<string, TetragonPod>();
  private readonly probesByContainer = new Map<string, string[][]>();
  /** The container ids each pod (by uid) holds, to drop them when it changes or goes. */
  private readonly containersOfPod = new Map<string, string[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listWatch: ListWatch<V1Pod>;
  private stopped = false;
  private listed = false;

  private constructor(
    config: KubeConfig,
    private readonly options: PodWatchOptions,
  ) {
    const api = config.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${options.nodeName}`;
    this.listWatch = new ListWatch<V1Pod>(
      '/api/v1/pods',
      new Watch(config),
      () => api.listPodForAllNamespaces({ fieldSelector }),
      false,
      undefined,
      fieldSelector,
    );
    this.listWatch.on('add', (pod) => this.put(pod));
    this.listWatch.on('update', (pod) => this.put(pod));
    this.listWatch.on('delete', (pod) => this.remove(pod));
    this.listWatch.on('error', (error) => this.retry(error));
  }

  /** Starts watching; resolves after the first list, or after firstListTimeoutMs. */
  static async start(config: KubeConfig, options: PodWatchOptions): Promise<PodWatch> {
    const watch = new PodWatch(config, options);
    const first = watch.listWatch.start().then(
      () => (watch.listed = true),
      (error: unknown) => watch.retry(error),
    );
    await Promise.race([first, watch.sleep(options.firstListTimeoutMs ?? 5_000)]);
    if (!watch.listed) {
      options.logger.warn(
        { node: options.nodeName },
        'the Kubernetes API has not listed this node’s pods yet: events carry container ids only until it does',
      );
    }
    return watch;
  }

  podOf(containerId: string): TetragonPod | undefined {
    return this.byContainer.get(containerId);
  }

  probeCommandsOf(containerId: string): readonly (readonly string[])[] | undefined {
    return this.probesByContainer.get(containerId);
  }

  /** Pods known, for logs and tests. */
  get podCount(): number {
    return this.containersOfPod.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.listWatch.stop();
  }

  private put(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const containers = podsByContainer(pod);
    const probes = probeCommandsByContainer(pod);
    for (const id of this.containersOfPod.get(uid) ?? []) {
      if (!containers.has(id)) this.byContainer.delete(id);
      this.probesByContainer.delete(id);
    }
    for (const [id, metadata] of containers) this.byContainer.set(id, metadata);
    for (const [id, commands] of probes) this.probesByContainer.set(id, commands);
    this.containersOfPod.set(uid, [...containers.keys()]);
  }

  private remove(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    const forget = () => {
      for (const id of this.containersOfPod.get(uid) ?? []) {
        this.byContainer.delete(id);
        this.probesByContainer.delete(id);
      }
      this.containersOfPod.delete(uid);
    };
    const graceMs = this.options.deletedPodGraceMs ?? 60_000;
    if (graceMs <= 0) forget();
    else void this.sleep(graceMs).then(forget);
  }

  /** The list or the watch failed (API down, token refused): list again after a while. */
  private retry(error: unknown): void {
    if (this.stopped) return;
    this.options.logger.warn(
      { err: error, node: this.options.nodeName },
      'watching this node’s pods failed; retrying',
    );
    void this.sleep(this.options.retryDelayMs ?? 5_000).then(() => {
      if (!this.stopped) {
        this.listWatch.start().then(
          () => (this.listed = true),
          (e: unknown) => this.retry(e),
        );
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      this.timers.add(timer);
    });
  }
}
