/**
 * The Kubernetes manifests, checked without a cluster: each document against a schema of the
 * fields that matter, then what the agent needs to run (privileged, the host's pids, BTF, the
 * cgroup root, bpffs, its node name), the references between objects (Secret keys, service
 * account, selectors, ports), and every command-line flag against the real CLI.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { registerAgentCommand } from '../../apps/agent/src/cli/agent-command';
import { registerDashboardCommand } from '../../apps/agent/src/cli/dashboard-command';
import { registerServeCommand } from '../../apps/agent/src/cli/serve-command';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const NAMESPACE = 'proctrail';

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a DNS-1123 name');
const labels = z.record(z.string(), z.string());
const metadata = z.object({ name, namespace: name.optional(), labels: labels.optional() });

const envVar = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    value: z.string().optional(),
    valueFrom: z
      .object({
        fieldRef: z.object({ fieldPath: z.string() }).optional(),
        secretKeyRef: z.object({ name, key: z.string() }).optional(),
      })
      .optional(),
  })
  .refine((v) => (v.value === undefined) !== (v.valueFrom === undefined), 'value or valueFrom');

const probe = z.object({
  httpGet: z.object({ path: z.string(), port: z.union([z.string(), z.number()]) }).optional(),
  tcpSocket: z.object({ port: z.union([z.string(), z.number()]) }).optional(),
  initialDelaySeconds: z.number().int().nonnegative().optional(),
  periodSeconds: z.number().int().positive().optional(),
  failureThreshold: z.number().int().positive().optional(),
});

const container = z.object({
  name,
  image: z.string().min(1),
  args: z.array(z.string()),
  env: z.array(envVar).default([]),
  ports: z
    .array(
      z.object({ name: z.string().max(15), containerPort: z.number().int().min(1).max(65535) }),
    )
    .default([]),
  readinessProbe: probe.optional(),
  livenessProbe: probe.optional(),
  securityContext: z
    .object({
      privileged: z.boolean().optional(),
      allowPrivilegeEscalation: z.boolean().optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
    })
    .optional(),
  volumeMounts: z
    .array(
      z.object({
        name,
        mountPath: z.string().startsWith('/'),
        readOnly: z.boolean().optional(),
        mountPropagation: z.enum(['None', 'HostToContainer', 'Bidirectional']).optional(),
      }),
    )
    .default([]),
});

const podSpec = z.object({
  serviceAccountName: name.optional(),
  hostPID: z.boolean().optional(),
  containers: z.array(container).min(1),
  volumes: z
    .array(
      z.object({
        name,
        hostPath: z
          .object({
            path: z.string().startsWith('/'),
            type: z.enum(['Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate']).optional(),
          })
          .optional(),
      }),
    )
    .default([]),
});

const podTemplate = z.object({ metadata: z.object({ labels }), spec: podSpec });
const workloadSpec = z.object({
  selector: z.object({ matchLabels: labels }),
  template: podTemplate,
});

const schemas = {
  Namespace: z.object({ apiVersion: z.literal('v1'), metadata }),
  Secret: z.object({
    apiVersion: z.literal('v1'),
    metadata,
    type: z.literal('Opaque'),
    stringData: z.record(z.string(), z.string()),
  }),
  ServiceAccount: z.object({ apiVersion: z.literal('v1'), metadata }),
  ClusterRole: z.object({
    apiVersion: z.literal('rbac.authorization.k8s.io/v1'),
    metadata,
    rules: z.array(
      z.object({
        apiGroups: z.array(z.string()),
        resources: z.array(z.string()),
        verbs: z.array(z.string()),
      }),
    ),
  }),
  ClusterRoleBinding: z.object({
    apiVersion: z.literal('rbac.authorization.k8s.io/v1'),
    metadata,
    roleRef: z.object({ apiGroup: z.string(), kind: z.literal('ClusterRole'), name }),
    subjects: z.array(z.object({ kind: z.literal('ServiceAccount'), name, namespace: name })),
  }),
  DaemonSet: z.object({ apiVersion: z.literal('apps/v1'), metadata, spec: workloadSpec }),
  Deployment: z.object({
    apiVersion: z.literal('apps/v1'),
    metadata,
    spec: workloadSpec.extend({ replicas: z.number().int().positive() }),
  }),
  Service: z.object({
    apiVersion: z.literal('v1'),
    metadata,
    spec: z.object({
      selector: labels,
      ports: z.array(
        z.object({ name: z.string(), port: z.number().int(), targetPort: z.string() }),
      ),
    }),
  }),
} as const;

type Kind = keyof typeof schemas;
type Manifest<K extends Kind> = z.infer<(typeof schemas)[K]>;
type PodSpec = z.infer<typeof podSpec>;

interface Document {
  file: string;
  kind: Kind;
  value: unknown;
}

function manifestFiles(): string[] {
  return readdirSync(DIR)
    .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
    .sort();
}

function readDocuments(): Document[] {
  const documents: Document[] = [];
  for (const file of manifestFiles()) {
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], `${file}: YAML errors`);
      const value = doc.toJS() as { kind?: string };
      assert.ok(value.kind && value.kind in schemas, `${file}: unexpected kind ${value.kind}`);
      documents.push({ file, kind: value.kind as Kind, value });
    }
  }
  return documents;
}

const documents = readDocuments();

/** The one object of a kind (and name), validated against its schema. */
function only<K extends Kind>(kind: K, objectName?: string): Manifest<K> {
  const found = documents.filter(
    (doc) =>
      doc.kind === kind &&
      (objectName === undefined || (doc.value as Manifest<K>).metadata.name === objectName),
  );
  assert.equal(found.length, 1, `one ${kind} ${objectName ?? ''}`);
  return schemas[kind].parse(found[0]!.value) as Manifest<K>;
}

/** The long flags a proctrail subcommand accepts, from the CLI itself. */
function flagsOf(command: string): Set<string> {
  const program = new Command();
  registerAgentCommand(program);
  registerServeCommand(program);
  registerDashboardCommand(program);
  const sub = program.commands.find((c) => c.name() === command);
  assert.ok(sub, `no proctrail ${command}`);
  return new Set(sub.options.map((option) => option.long!));
}

function assertArgsKnown(where: string, args: readonly string[]): void {
  const [command, ...rest] = args;
  const flags = flagsOf(command!);
  for (const arg of rest) {
    const flag = arg.split('=')[0]!;
    assert.ok(flags.has(flag), `${where}: proctrail ${command} has no ${flag}`);
  }
}

function assertVolumesResolve(where: string, spec: PodSpec): void {
  const volumes = new Set(spec.volumes.map((v) => v.name));
  for (const c of spec.containers) {
    for (const mount of c.volumeMounts) {
      assert.ok(volumes.has(mount.name), `${where}: mount ${mount.name} has no volume`);
    }
  }
}

function assertSecretsResolve(where: string, spec: PodSpec): void {
  const secret = only('Secret');
  for (const c of spec.containers) {
    for (const env of c.env) {
      const ref = env.valueFrom?.secretKeyRef;
      if (!ref) continue;
      assert.equal(ref.name, secret.metadata.name, `${where}: ${env.name} names another Secret`);
      assert.ok(ref.key in secret.stringData, `${where}: Secret has no key ${ref.key}`);
    }
  }
}

describe('Kubernetes manifests', () => {
  test('every document validates, and namespaced ones live in the proctrail namespace', () => {
    assert.ok(documents.length >= 8);
    for (const doc of documents) {
      const result = schemas[doc.kind].safeParse(doc.value);
      assert.ok(result.success, `${doc.file} ${doc.kind}: ${result.error?.message}`);
      const meta = (doc.value as { metadata: { namespace?: string } }).metadata;
      const clusterWide = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(doc.kind);
      assert.equal(meta.namespace, clusterWide ? undefined : NAMESPACE, `${doc.file} ${doc.kind}`);
    }
  });

  test('the kustomization lists every manifest file', () => {
    const kustomization = z
      .object({ resources: z.array(z.string()) })
      .parse(parseAllDocuments(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8'))[0]!.toJS());
    assert.deepEqual([...kustomization.resources].sort(), manifestFiles());
  });

  test('the agent runs privileged in the host pid namespace with BTF, the cgroup root and bpffs', () => {
    const agent = only('DaemonSet', 'proctrail-agent');
    const spec = agent.spec.template.spec;
    assert.equal(spec.hostPID, true);
    assert.equal(spec.containers.length, 1);
    const container = spec.containers[0]!;
    assert.equal(container.securityContext?.privileged, true);
    assertVolumesResolve('agent', spec);

    const hostPathOf = (mountPath: string) => {
      const mount = container.volumeMounts.find((m) => m.mountPath === mountPath);
      assert.ok(mount, `agent does not mount ${mountPath}`);
      return spec.volumes.find((v) => v.name === mount.name)?.hostPath?.path;
    };
    assert.equal(hostPathOf('/sys/kernel/btf'), '/sys/kernel/btf');
    assert.equal(hostPathOf('/sys/fs/cgroup'), '/sys/fs/cgroup');
    assert.equal(hostPathOf('/sys/fs/bpf'), '/sys/fs/bpf');
    assert.deepEqual(
      agent.spec.selector.matchLabels,
      pick(agent.spec.template.metadata.labels, agent.spec.selector.matchLabels),
    );
  });

  test("the agent's node name comes from spec.nodeName and its store from the Secret", () => {
    const spec = only('DaemonSet', 'proctrail-agent').spec.template.spec;
    const container = spec.containers[0]!;
    const env = new Map(container.env.map((e) => [e.name, e]));
    const nodeArg = container.args.find((arg) => arg.startsWith('--node-name='));
    const variable = /^--node-name=\$\((\w+)\)$/.exec(nodeArg ?? '')?.[1];
    assert.ok(variable, 'the agent takes --node-name=$(VARIABLE)');
    assert.equal(env.get(variable)?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
    assert.ok(env.get('PROCTRAIL_STORE')?.valueFrom?.secretKeyRef, 'store URL from the Secret');
    assert.ok(env.get('PROCTRAIL_TOKEN')?.valueFrom?.secretKeyRef, 'token from the Secret');
    assertSecretsResolve('agent', spec);
    assertArgsKnown('agent', container.args);
  });

  test("the agent's service account may get, list and watch pods, and nothing more", () => {
    const spec = only('DaemonSet', 'proctrail-agent').spec.template.spec;
    const account = only('ServiceAccount', spec.serviceAccountName);
    const binding = only('ClusterRoleBinding');
    assert.deepEqual(binding.subjects, [
      { kind: 'ServiceAccount', name: account.metadata.name, namespace: NAMESPACE },
    ]);
    const role = only('ClusterRole', binding.roleRef.name);
    assert.deepEqual(role.rules, [
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
  });

  test('the dashboard reads the store through the API with the token, behind its Service', () => {
    const dashboard = only('Deployment', 'proctrail-dashboard');
    const spec = dashboard.spec.template.spec;
    assert.notEqual(spec.hostPID, true);
    for (const c of spec.containers) {
      assert.notEqual(c.securityContext?.privileged, true, `${c.name} is not privileged`);
      assertArgsKnown(`dashboard ${c.name}`, c.args);
    }
    assertSecretsResolve('dashboard', spec);
    assertVolumesResolve('dashboard', spec);
    const api = spec.containers.find((c) => c.args[0] === 'serve');
    assert.ok(api?.env.some((e) => e.name === 'PROCTRAIL_STORE' && e.valueFrom?.secretKeyRef));
    const web = spec.containers.find((c) => c.args[0] === 'dashboard');
    assert.ok(web?.env.some((e) => e.name === 'PROCTRAIL_TOKEN' && e.valueFrom?.secretKeyRef));

    const labelsOfPods = dashboard.spec.template.metadata.labels;
    assert.deepEqual(
      dashboard.spec.selector.matchLabels,
      pick(labelsOfPods, dashboard.spec.selector.matchLabels),
    );
    const service = only('Service', 'proctrail-dashboard');
    assert.deepEqual(service.spec.selector, pick(labelsOfPods, service.spec.selector));
    const portNames = new Set(web!.ports.map((p) => p.name));
    for (const port of service.spec.ports) {
      assert.ok(portNames.has(port.targetPort), `Service targets unknown port ${port.targetPort}`);
    }
  });
});

/** The entries of `labels` named in `selector`: equal to the selector when it matches. */
function pick(labels: Record<string, string>, selector: Record<string, string>) {
  return Object.fromEntries(Object.keys(selector).map((key) => [key, labels[key]]));
}
