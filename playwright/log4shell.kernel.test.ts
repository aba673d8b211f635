import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { ProcessTree, ProcessTreeNode } from '@proctrail/schema';
import type { Browser, Page } from 'playwright-core';
import {
  artifactsDir,
  cliPath,
  launchBrowser,
  repoRoot,
  startAgent,
  startDashboard,
  stop,
  type Running,
} from './harness';

const skip = kernelSkipReason();
if (skip) console.log(`# skipping the Log4Shell browser test: ${skip}`);

/** What `proctrail demo log4shell --json` prints (the parts this test reads). */
interface DemoOutput {
  scenario: { javaPid: number; directoryPort: number; shellPort: number };
  javaExecId: string;
  link: string;
  /** The java process's tree as the API returned it to the demo. */
  tree: ProcessTree;
}

function* walk(nodes: ProcessTreeNode[]): Generator<ProcessTreeNode> {
  for (const node of nodes) {
    yield node;
    yield* walk(node.children);
  }
}

/** The exec_ids of the story's processes, from the API's answer. */
function storyProcesses(tree: ProcessTree) {
  const all = [...walk(tree.children)];
  const find = (test: (node: ProcessTreeNode) => boolean, what: string) => {
    const found = all.filter(test);
    assert.equal(found.length, 1, `one ${what} in the API's tree`);
    return found[0]!;
  };
  const isBash = (node: ProcessTreeNode) => node.binary?.endsWith('/bash') ?? false;
  return {
    payload: find(
      (n) => isBash(n) && n.relation === 'fork+exec' && /^-c /.test(n.arguments ?? ''),
      'bash -c',
    ),
    reverse: find((n) => isBash(n) && n.arguments === '-i', 'bash -i'),
    id: find((n) => n.binary?.endsWith('/id') ?? false, 'id'),
    env: find((n) => n.binary?.endsWith('/env') ?? false, 'env'),
    cat: find((n) => n.binary?.endsWith('/cat') ?? false, 'cat'),
  };
}

function runDemo(apiUrl: string, dashboardUrl: string): Promise<DemoOutput> {
  const child = spawn(
    process.execPath,
    [cliPath, 'demo', 'log4shell', '--api', apiUrl, '--dashboard', dashboardUrl, '--json'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as DemoOutput);
      else reject(new Error(`the demo exited with ${code}:\n${stderr}`));
    });
  });
}

/**
 * Every row the Live page holds, read by scrolling its virtualised list from top to bottom
 * (only the rows in view are in the document at any time).
 */
async function liveRows(page: Page): Promise<string[]> {
  return (await page.evaluate(`(async () => {
    const list = document.querySelector('[data-testid=live-list]');
    const seen = new Set();
    for (let top = 0; top <= list.scrollHeight; top += list.clientHeight / 2) {
      list.scrollTop = top;
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      for (const row of list.querySelectorAll('[data-testid=live-row]')) seen.add(row.textContent);
    }
    return [...seen];
  })()`)) as string[];
}

interface DrawnNode {
  id: string;
  kind: string;
  text: string;
  parent: string | null;
  badges: string[];
}

/** The tree as drawn: each node's kind, label, parent (from the links) and detection badges. */
async function drawnTree(page: Page): Promise<DrawnNode[]> {
  return (await page.evaluate(`(() => {
    const tree = document.querySelector('[data-testid=tree]');
    const parentOf = new Map();
    for (const link of tree.querySelectorAll('path.tree-link')) {
      parentOf.set(link.getAttribute('data-target'), link.getAttribute('data-source'));
    }
    return [...tree.querySelectorAll('g.tree-node')].map((node) => ({
      id: node.getAttribute('data-id'),
      kind: node.getAttribute('data-kind'),
      text: node.querySelector('text.label')?.textContent ?? '',
      parent: parentOf.get(node.getAttribute('data-id')) ?? null,
      badges: [...node.querySelectorAll('g.detection-badge title')].map((t) => t.textContent),
    }));
  })()`)) as DrawnNode[];
}

describe('the Log4Shell story in the browser', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-log4shell-e2e-'));
  let agent: Running | undefined;
  let dashboard: Running | undefined;
  let browser: Browser | undefined;

  before(async () => {
    agent = await startAgent(join(dir, 'log4shell.db'));
    dashboard = await startDashboard(agent.url);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stop(dashboard);
    await stop(agent);
    rmSync(dir, { recursive: true, force: true });
  });

  test('Live shows the attack as it happens; the java process page draws the chain, its connections, the file read and the detections', async () => {
    const viewport = { width: 1600, height: 1000 };
    const live = await browser!.newPage({ viewport });
    const errors: string[] = [];
    live.on('pageerror', (error) => errors.push(error.message));
    await live.goto(`${dashboard!.url}/live`);
    await live.locator('[data-testid=live-status][data-state=live]').waitFor({ timeout: 10_000 });

    const demo = await runDemo(agent!.url, dashboard!.url);
    const { javaPid, directoryPort, shellPort } = demo.scenario;

    // The Live page, open before the attack and never reloaded, received it as it happened.
    const rows = await liveRows(live);
    const has = (pattern: RegExp, what: string) =>
      assert.ok(
        rows.some((row) => pattern.test(row)),
        `Live showed ${what}; ${rows.length} rows`,
      );
    has(new RegExp(`java .*LookupService`), 'the java service starting');
    has(new RegExp(`connect.*127\\.0\\.0\\.1:${directoryPort}`), "java's lookup connection");
    has(/bash -c .*\/dev\/tcp\/127\.0\.0\.1/, 'the payload shell');
    has(new RegExp(`connect.*127\\.0\\.0\\.1:${shellPort}`), 'the reverse shell connecting');
    has(/bash -i/, 'the interactive shell');
    has(/cat \/etc\/passwd/, 'cat /etc/passwd');
    has(/\/etc\/passwd/, 'the read of /etc/passwd');
    // The picture: the list scrolled to where java started.
    await live.evaluate(`(async () => {
      const list = document.querySelector('[data-testid=live-list]');
      for (let top = 0; top <= list.scrollHeight; top += list.clientHeight / 2) {
        list.scrollTop = top;
        await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
        const row = [...list.querySelectorAll('[data-testid=live-row]')].find((r) =>
          /process .*LookupService/.test(r.textContent));
        if (row) {
          list.scrollTop += row.getBoundingClientRect().top - list.getBoundingClientRect().top;
          return;
        }
      }
    })()`);
    await live.waitForTimeout(200);
    await live.screenshot({ path: join(artifactsDir, 'log4shell-live.png') });
    await live.close();

    // The link the demo printed opens the java process's tree.
    const page = await browser!.newPage({ viewport });
    page.on('pageerror', (error) => errors.push(error.message));
    assert.ok(demo.link.startsWith(`${dashboard!.url}/process?`), demo.link);
    await page.goto(demo.link);
    await page.locator('[data-testid=tree] g.tree-node[data-kind=file]').first().waitFor();
    const story = storyProcesses(demo.tree);
    // Detections load per process after the tree is drawn.
    for (const flagged of [story.payload, story.reverse, story.cat]) {
      await page
        .locator(`[data-testid=tree] g.tree-node[data-id="${flagged.exec_id}"] g.detection-badge`)
        .first()
        .waitFor();
    }
    const nodes = await drawnTree(page);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const drawn = (execId: string, label: RegExp, what: string) => {
      const node = byId.get(execId);
      assert.ok(node, `${what} is drawn: ${JSON.stringify(nodes.map((n) => n.text))}`);
      assert.match(node.text, label, what);
      return node;
    };
    const java = drawn(demo.javaExecId, new RegExp(`^java \\(${javaPid}\\)`), 'java');
    const payload = drawn(story.payload.exec_id, /^bash \(/, 'bash -c');
    const reverse = drawn(story.reverse.exec_id, /^bash \(/, 'bash -i');
    const cat = drawn(story.cat.exec_id, /^cat \(/, 'cat');
    assert.equal(payload.parent, java.id, 'java -> bash -c');
    assert.equal(reverse.parent, payload.id, 'bash -c -> bash -i');
    assert.equal(cat.parent, reverse.id, 'bash -i -> cat');
    assert.equal(drawn(story.id.exec_id, /^id \(/, 'id').parent, reverse.id, 'bash -i -> id');
    assert.equal(drawn(story.env.exec_id, /^env \(/, 'env').parent, reverse.id, 'bash -i -> env');

    const leaves = (kind: string, pattern: RegExp) =>
      nodes.filter((n) => n.kind === kind && pattern.test(n.text));
    const lookup = leaves('network', new RegExp(`^connect → 127\\.0\\.0\\.1:${directoryPort}`));
    assert.deepEqual(
      lookup.map((n) => n.parent),
      [java.id],
      'java -> its lookup at the directory stand-in',
    );
    const shellConnect = leaves('network', new RegExp(`^connect → 127\\.0\\.0\\.1:${shellPort}`));
    assert.equal(shellConnect.length, 1, 'the reverse shell connection is drawn');
    assert.match(
      byId.get(shellConnect[0]!.parent!)?.text ?? '',
      new RegExp(`^bash \\(${story.reverse.pid}\\)`),
      'from the shell that opened /dev/tcp (the fork that became bash -i)',
    );
    assert.ok(
      leaves('file', /^read \/etc\/passwd/).some((n) => n.parent === cat.id),
      'cat -> read /etc/passwd',
    );

    // The detection badges: the agent stored them with their evidence, before the demo ended.
    const titled = (node: DrawnNode, pattern: RegExp) => node.badges.some((b) => pattern.test(b));
    assert.ok(
      titled(payload, /^high: Server runtime started a shell/),
      `bash -c: ${payload.badges}`,
    );
    assert.ok(titled(reverse, /^critical: Reverse shell/), `bash -i: ${reverse.badges}`);
    assert.ok(titled(cat, /Account list read from an attacker's shell/), `cat: ${cat.badges}`);
    assert.deepEqual(java.badges, [], 'java itself did nothing a rule flags');

    await page.locator(`[data-testid=tree] g.tree-node[data-id="${reverse.id}"]`).click();
    await page
      .getByTestId('node-detections')
      .locator('[data-testid=detection-row][data-rule=reverse-shell]')
      .waitFor();
    // Pan so that the shells and the commands under them are in view, then take the picture.
    const canvas = (await page.getByTestId('tree').boundingBox())!;
    const shell = (await page
      .locator(`[data-testid=tree] g.tree-node[data-id="${payload.id}"]`)
      .boundingBox())!;
    const grab = { x: canvas.x + 8, y: canvas.y + canvas.height - 8 };
    await page.mouse.move(grab.x, grab.y);
    await page.mouse.down();
    await page.mouse.move(
      grab.x + (canvas.x + canvas.width * 0.2 - shell.x),
      grab.y + (canvas.y + canvas.height * 0.3 - shell.y),
      { steps: 8 },
    );
    await page.mouse.up();
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(artifactsDir, 'log4shell-tree.png') });
    await page.close();
    assert.deepEqual(errors, [], 'no script errors on the pages');
  });
});
