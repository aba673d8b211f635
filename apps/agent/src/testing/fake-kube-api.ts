/**
 * A stand-in for the Kubernetes API's pods endpoint on loopback, for tests: no cluster can run
 * on the test machines. It speaks the two requests a pod informer makes, the list
 * (`GET /api/v1/pods`) and the watch (`GET /api/v1/pods?watch=true`, one JSON event a line,
 * the response held open), honours `fieldSelector=spec.nodeName=...`, and checks the bearer
 * token. Tests change its pods and the open watches hear of it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';

export interface FakeKubeApi {
  url: string;
  token: string;
  /** Every request's method, path and query, in order. */
  requests: Array<{ method: string; path: string; query: URLSearchParams; auth?: string }>;
  /** Adds or replaces a pod (by namespace/name); watchers get ADDED or MODIFIED. */
  put(pod: V1Pod): void;
  /** Removes a pod; watchers get DELETED. */
  remove(namespace: string, name: string): void;
  /** Watches currently open. */
  openWatches(): number;
  /**
   * Writes a kubeconfig pointing at this server with its token (or another); returns the path.
   * The server speaks plain HTTP, which the client allows only with insecure-skip-tls-verify.
   */
  writeKubeconfig(path: string, userToken?: string): string;
  close(): Promise<void>;
}

interface Watcher {
  nodeName?: string;
  response: ServerResponse;
}

export async function startFakeKubeApi(token = 'fake-service-account-token'): Promise<FakeKubeApi> {
  const pods = new Map<string, V1Pod>();
  const watchers = new Set<Watcher>();
  const requests: FakeKubeApi['requests'] = [];
  let resourceVersion = 1;

  const keyOf = (pod: V1Pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const nodeOf = (query: URLSearchParams) =>
    /(?:^|,)spec\.nodeName=([^,]+)/.exec(query.get('fieldSelector') ?? '')?.[1];
  const onNode = (pod: V1Pod, nodeName: string | undefined) =>
    nodeName === undefined || pod.spec?.nodeName === nodeName;

  const notify = (type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod) => {
    for (const watcher of watchers) {
      if (onNode(pod, watcher.nodeName)) {
        watcher.response.write(`${JSON.stringify({ type, object: pod })}\n`);
      }
    }
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://fake');
    const auth = request.headers.authorization;
    requests.push({
      method: request.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      auth,
    });
    if (auth !== `Bearer ${token}`) {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({ kind: 'Status', status: 'Failure', code: 401, reason: 'Unauthorized' }),
      );
      return;
    }
    if (url.pathname !== '/api/v1/pods') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'Status', status: 'Failure', code: 404 }));
      return;
    }
    const nodeName = nodeOf(url.searchParams);
    if (url.searchParams.get('watch') === 'true') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.flushHeaders();
      const watcher = { nodeName, response };
      watchers.add(watcher);
      request.on('close', () => watchers.delete(watcher));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(resourceVersion) },
        items: [...pods.values()].filter((pod) => onNode(pod, nodeName)),
      }),
    );
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    requests,
    put(pod) {
      const stamped: V1Pod = {
        ...pod,
        metadata: { ...pod.metadata, resourceVersion: String(++resourceVersion) },
      };
      const existed = pods.has(keyOf(stamped));
      pods.set(keyOf(stamped), stamped);
      notify(existed ? 'MODIFIED' : 'ADDED', stamped);
    },
    remove(namespace, name) {
      const pod = pods.get(`${namespace}/${name}`);
      if (!pod) return;
      pods.delete(`${namespace}/${name}`);
      notify('DELETED', {
        ...pod,
        metadata: { ...pod.metadata, resourceVersion: String(++resourceVersion) },
      });
    },
    openWatches: () => watchers.size,
    writeKubeconfig(path, userToken = token) {
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fake', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'agent', user: { token: userToken } }],
        contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'agent' } }],
        'current-context': 'fake',
      };
      // JSON is YAML: the client's loader reads it.
      writeFileSync(path, JSON.stringify(config, null, 2));
      return path;
    },
    async close() {
      for (const watcher of watchers) watcher.response.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A pod of the shape the API returns for a Deployment's replica, running one container. */
export function deploymentPod(fields: {
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  deployment: string;
  templateHash: string;
  labels?: Record<string, string>;
  container: { name: string; id: string; image: string; startedAt: string };
  /** A liveness probe of kind exec: the command kubelet runs in the container. */
  livenessCommand?: string[];
}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: fields.namespace,
      name: fields.name,
      uid: fields.uid,
      labels: {
        app: fields.deployment,
        'pod-template-hash': fields.templateHash,
        ...fields.labels,
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${fields.deployment}-${fields.templateHash}`,
          uid: `${fields.uid.slice(0, -4)}beef`,
          controller: true,
        },
      ],
    },
    spec: {
      nodeName: fields.nodeName,
      containers: [
        {
          name: fields.container.name,
          image: fields.container.image,
          ...(fields.livenessCommand
            ? { livenessProbe: { exec: { command: fields.livenessCommand }, periodSeconds: 10 } }
            : {}),
        },
      ],
    },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: fields.container.name,
          containerID: `containerd://${fields.container.id}`,
          image: fields.container.image,
          imageID: `${fields.container.image.split(':')[0]}@sha256:${'ab'.repeat(32)}`,
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: new Date(fields.container.startedAt) } },
        },
      ],
    },
  };
}
