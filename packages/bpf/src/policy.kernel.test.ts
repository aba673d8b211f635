import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KernelPolicy } from './policy';
import type { EnforceRecord, ExitRecord } from './records';
import { startSensor } from './sensor';
import { collect, exitOf, kernelSkipReason, waitFor } from './testing/kernel';

const skip = kernelSkipReason();

/**
 * Policies here select only processes under a copy of bash with a name of this test's own
 * (matched by its full path): nothing else on this shared host can be killed or refused.
 */
function privateLauncher(): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-policy-'));
  const path = join(dir, 'policy-test-launcher');
  copyFileSync('/bin/bash', path);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

const IPV4_MAPPED_LOOPBACK_2 = [...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 2];

async function listen(host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end('hello\n'));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const enforcements = (records: { kind: string }[]) =>
  records.filter((r): r is EnforceRecord => r.kind === 'enforce');

test(
  'an exec policy kills the selected binary before it runs, and only under its ancestor',
  { skip, timeout: 30_000 },
  async () => {
    const launcher = privateLauncher();
    const policies: KernelPolicy[] = [
      { on: 'exec', processBinaries: ['true'], ancestorBinaries: [launcher.path] },
    ];
    const sensor = await startSensor({ policies, hooks: { files: false } });
    const records = collect(sensor);
    try {
      // Under the launcher: true is killed at exec, so `echo` after it never prints.
      const child = spawn(launcher.path, ['-c', '/bin/true; echo survived $?'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout!.on('data', (chunk) => (out += chunk));
      assert.equal(await exitOf(child), 0);
      assert.equal(out.trim(), 'survived 137', 'true died of SIGKILL (128 + 9)');

      // Not under the launcher: the same binary runs.
      assert.equal(spawnSync('/bin/true').status, 0);

      await waitFor(() => enforcements(records).length > 0, 'the enforcement record');
      const [kill] = enforcements(records);
      assert.equal(kill!.action, 'kill');
      assert.equal(kill!.outcome, 'blocked');
      assert.equal(kill!.policyIndex, 0);
      assert.equal(kill!.result, 0);
      await waitFor(
        () => records.some((r) => r.kind === 'exit' && r.pid === kill!.pid),
        'the killed process exit',
      );
      const exit = records.find((r): r is ExitRecord => r.kind === 'exit' && r.pid === kill!.pid);
      assert.equal(exit!.signal, 9);
      await sensor.settle(100);
      assert.equal(enforcements(records).length, 1, 'one kill, nothing else enforced');
    } finally {
      sensor.stop();
      launcher.remove();
    }
  },
);

test(
  'a connect policy refuses destinations outside its allow list with EPERM; dry run only reports',
  { skip, timeout: 30_000 },
  async () => {
    const launcher = privateLauncher();
    const denied = await listen('127.0.0.1');
    const allowed = await listen('127.0.0.2');
    const connectScript = (host: string, port: number) =>
      `exec 3<>/dev/tcp/${host}/${port} && echo connected || echo refused`;
    const run = (script: string) => spawnSync(launcher.path, ['-c', script], { encoding: 'utf8' });
    const allowList = {
      mode: 'allow' as const,
      ranges: [{ address: IPV4_MAPPED_LOOPBACK_2, prefixLength: 128, ports: [allowed.port] }],
    };
    try {
      const sensor = await startSensor({
        policies: [
          {
            on: 'connect',
            processBinaries: [launcher.path],
            ancestorBinaries: [],
            destinations: allowList,
          },
        ],
        hooks: { files: false },
      });
      const records = collect(sensor);
      try {
        const refused = run(connectScript('127.0.0.1', denied.port));
        assert.equal(refused.stdout.trim(), 'refused');
        assert.match(refused.stderr, /Operation not permitted/);
        assert.equal(run(connectScript('127.0.0.2', allowed.port)).stdout.trim(), 'connected');
        // Another binary to the refused destination: not selected, not refused.
        const other = spawnSync('bash', ['-c', connectScript('127.0.0.1', denied.port)], {
          encoding: 'utf8',
        });
        assert.equal(other.stdout.trim(), 'connected');

        await waitFor(() => enforcements(records).length > 0, 'the enforcement record');
        await sensor.settle(100);
        const [deny, ...others] = enforcements(records);
        assert.deepEqual(others, []);
        assert.equal(deny!.action, 'deny-connect');
        assert.equal(deny!.outcome, 'blocked');
        assert.deepEqual(
          { address: deny!.destination?.address, port: deny!.destination?.port },
          { address: '127.0.0.1', port: denied.port },
        );
      } finally {
        sensor.stop();
      }

      // After stop nothing stays attached: the same connect goes through.
      assert.equal(run(connectScript('127.0.0.1', denied.port)).stdout.trim(), 'connected');

      const dryRun = await startSensor({
        policies: [
          {
            on: 'connect',
            processBinaries: [launcher.path],
            ancestorBinaries: [],
            destinations: allowList,
            dryRun: true,
          },
        ],
        hooks: { files: false },
      });
      const dryRecords = collect(dryRun);
      try {
        assert.equal(run(connectScript('127.0.0.1', denied.port)).stdout.trim(), 'connected');
        await waitFor(() => enforcements(dryRecords).length > 0, 'the dry-run record');
        assert.equal(enforcements(dryRecords)[0]!.outcome, 'dry-run');
      } finally {
        dryRun.stop();
      }
    } finally {
      denied.server.close();
      allowed.server.close();
      launcher.remove();
    }
  },
);

test(
  'a process running before the policy loaded is in scope through the snapshot',
  {
    skip,
    timeout: 30_000,
  },
  async () => {
    const launcher = privateLauncher();
    // The launcher waits for a line on stdin, then runs true: started before the sensor.
    const child = spawn(launcher.path, ['-c', 'read line; /bin/true; echo status $?'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sensor = await startSensor({
      policies: [{ on: 'exec', processBinaries: ['true'], ancestorBinaries: [launcher.path] }],
      hooks: { files: false, network: false },
    });
    try {
      child.stdin!.end('go\n');
      assert.equal(await exitOf(child), 0);
      assert.equal(out.trim(), 'status 137');
    } finally {
      sensor.stop();
      launcher.remove();
    }
  },
);

test(
  "init-tree selectors tell a pid namespace's own processes from ones entered with nsenter",
  { skip, timeout: 30_000 },
  async () => {
    const launcher = privateLauncher();
    // A pid namespace whose init (pid 1 there) is a sleep, entered below with nsenter.
    const namespace = spawn('unshare', ['--pid', '--fork', 'sleep', '30'], { stdio: 'ignore' });
    const statusOf = (script: string) =>
      spawnSync(launcher.path, ['-c', `${script}; echo $?`], { encoding: 'utf8' }).stdout.trim();
    // In the namespace's init tree: the new namespace's pid 1 is a launcher that forks true
    // (a second command keeps bash from exec'ing true in its own place).
    const inTree = () => statusOf(`unshare --pid --fork ${launcher.path} -c '/bin/true; exit $?'`);
    try {
      let init = '';
      await waitFor(() => {
        const found = spawnSync('pgrep', ['-P', String(namespace.pid)], { encoding: 'utf8' });
        init = found.stdout.trim();
        return init !== '';
      }, "the namespace's init");
      const entered = () => statusOf(`nsenter --target ${init} --pid -- /bin/true`);
      const onHost = () => statusOf('/bin/true');

      const outside = await startSensor({
        policies: [
          {
            on: 'exec',
            processBinaries: ['true'],
            ancestorBinaries: [launcher.path],
            initTree: 'outside',
          },
        ],
        hooks: { files: false, network: false },
      });
      try {
        assert.equal(entered(), '137', 'true entered with nsenter is killed');
        assert.equal(inTree(), '0', "true under the namespace's init runs");
        assert.equal(onHost(), '0', "true on the host, under the host's init, runs");
      } finally {
        outside.stop();
      }

      const inside = await startSensor({
        policies: [
          {
            on: 'exec',
            processBinaries: ['true'],
            ancestorBinaries: [launcher.path],
            initTree: 'inside',
          },
        ],
        hooks: { files: false, network: false },
      });
      try {
        assert.equal(inTree(), '137', "true under the namespace's init is killed");
        assert.equal(entered(), '0', 'true entered with nsenter runs');
      } finally {
        inside.stop();
      }
    } finally {
      namespace.kill('SIGKILL');
      await exitOf(namespace);
      launcher.remove();
    }
  },
);
