import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exitOf, kernelSkipReason } from '@proctrail/bpf/testing';
import type { Browser, Locator, Page } from 'playwright-core';
import { readFileRepeatedly } from './file-reads';
import {
  artifactsDir,
  launchBrowser,
  startAgent,
  startDashboard,
  stop,
  type Running,
} from './harness';

const skip = kernelSkipReason();
if (skip) console.log(`# skipping the dashboard end-to-end tests: ${skip}`);

const XSS_IMG = '<img src=x onerror=window.__xss=1>';
const XSS_SCRIPT = '<script>window.__xss=2</script>';

/** What the tree on the page draws: each node's kind and visible text, by id. */
async function drawnNodes(page: Page): Promise<Array<{ id: string; kind: string; text: string }>> {
  return page.locator('[data-testid=tree] g.tree-node').evaluateAll((elements) =>
    elements.map((e) => ({
      id: e.getAttribute('data-id') ?? '',
      kind: e.getAttribute('data-kind') ?? '',
      text: e.querySelector('text.label')?.textContent ?? '',
    })),
  );
}

/** The exec_id of the newest process whose arguments hold `marker`, once the agent stored it. */
async function execIdByArgs(apiUrl: string, marker: string, binary: string): Promise<string> {
  const input = encodeURIComponent(JSON.stringify({ args: marker, binary }));
  for (let attempt = 0; attempt < 40; attempt++) {
    const answer = await fetch(`${apiUrl}/trpc/process.search?input=${input}`);
    const body = (await answer.json()) as {
      result: { data: { items: Array<{ exec_id: string }> } };
    };
    const found = body.result.data.items[0];
    if (found) return found.exec_id;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no ${binary} process with ${marker} in its arguments was stored`);
}

/** Clicks `button` and returns the text of the file the page offered for download. */
async function downloaded(page: Page, button: Locator): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: readFileSync(path!, 'utf8') };
}

/** Nothing the traced processes said became markup or ran. */
async function assertNoInjection(page: Page): Promise<void> {
  // A string, evaluated in the page: this file is type-checked without the DOM's types.
  const injected = await page.evaluate(`({
    flag: window.__xss,
    images: document.querySelectorAll('img[src="x"]').length,
    svgImages: document.querySelectorAll('svg image').length,
  })`);
  assert.deepEqual(injected, { flag: undefined, images: 0, svgImages: 0 });
}

describe('the dashboard against a real agent', { skip, timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-dashboard-e2e-'));
  let agent: Running | undefined;
  let dashboard: Running | undefined;
  let browser: Browser | undefined;
  let listener: Server;
  let port = 0;
  // A file the agent watches: each read of it is an event (the lost-events test floods it).
  const watched = join(dir, 'watched.txt');

  before(async () => {
    listener = createServer((socket) => socket.end('greetings\n'));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
    writeFileSync(watched, 'watched\n');
    agent = await startAgent(join(dir, 'e2e.db'), ['--watch-path', watched]);
    dashboard = await startDashboard(agent.url);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stop(dashboard);
    await stop(agent);
    listener?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a chain found through Search opens as a tree with its connect and file edges, and its permalink reopens the same view; its shell under node is flagged on the tree and the Overview', async () => {
    const marker = `e2e-tree-${process.pid}-${Date.now()}`;
    // A server-like parent (node) starts sh -c, which reads /etc/passwd through cat, runs echo
    // with markup in its arguments, then replaces itself (exec, same pid) with a bash that
    // connects to the loopback listener.
    const script =
      `cat /etc/passwd >/dev/null; /bin/echo '${XSS_IMG}' '${XSS_SCRIPT}' >/dev/null; ` +
      `exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; cat <&3 >/dev/null; : ${marker}'`;
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `require('child_process').spawnSync('sh', ['-c', process.argv[1]], { stdio: 'ignore' })`,
        script,
        marker,
      ],
      { stdio: 'ignore' },
    );
    assert.equal(await exitOf(parent), 0);

    const page = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${dashboard!.url}/search`);
    await page.getByLabel('arguments').fill(marker);
    await page.getByLabel('binary').fill('node');
    // The agent writes in batches: search again until the parent is stored.
    let found = false;
    for (let attempt = 0; attempt < 20 && !found; attempt++) {
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByTestId('search-count').waitFor();
      found = (await page.getByTestId('search-match').count()) > 0;
      if (!found) await page.waitForTimeout(250);
    }
    assert.ok(found, 'the node parent is found by its arguments');
    const result = page.getByTestId('search-result').first();
    await result.locator('.path-step').nth(1).waitFor();
    assert.ok(
      (await result.locator('.path-step').count()) >= 2,
      'the result shows its path from the root',
    );

    await page.getByTestId('search-match').first().click();
    await page.waitForURL(/\/process\?execId=/);
    await page.locator('[data-testid=tree] g.tree-node[data-kind=file]').first().waitFor();

    const nodes = await drawnNodes(page);
    const texts = nodes.map((n) => n.text);
    const edgeTo = (id: string) =>
      page.locator(`[data-testid=tree] path.tree-link[data-target="${id}"]`);
    const connect = nodes.find(
      (n) => n.kind === 'network' && n.text === `connect → 127.0.0.1:${port}`,
    );
    assert.ok(connect, `the connect leaf names the listener: ${JSON.stringify(texts)}`);
    const file = nodes.find((n) => n.kind === 'file' && n.text.startsWith('read /etc/passwd'));
    assert.ok(file, `the file leaf names /etc/passwd: ${JSON.stringify(texts)}`);
    const bashId = await edgeTo(connect.id).getAttribute('data-source');
    const bash = nodes.find((n) => n.id === bashId);
    assert.ok(bash && bash.text.startsWith('bash ('), `bash → connect edge, from ${bash?.text}`);
    const bashRelation = await page
      .locator(`[data-testid=tree] g.tree-node[data-id="${bash.id}"]`)
      .getAttribute('data-relation');
    assert.equal(bashRelation, 're-exec', 'bash replaced sh without a fork');
    assert.equal(
      await page
        .locator(`[data-testid=tree] g.tree-node[data-id="${bash.id}"] circle.same-pid`)
        .count(),
      1,
      'the exec without fork carries the same-pid marker',
    );
    // /bin/sh is dash on Debian; bash took its place, so sh is bash's parent in the tree.
    const shId = await edgeTo(bash.id).getAttribute('data-source');
    const sh = nodes.find((n) => n.id === shId);
    assert.ok(sh && /^(da)?sh \(/.test(sh.text), `sh → bash, from ${sh?.text}`);
    const catId = await edgeTo(file.id).getAttribute('data-source');
    const cat = nodes.find((n) => n.id === catId);
    assert.ok(cat && cat.text.startsWith('cat ('), `cat → /etc/passwd edge, from ${cat?.text}`);
    assert.equal(await edgeTo(cat.id).getAttribute('data-source'), sh.id, 'cat is a child of sh');

    // The markup in echo's arguments is drawn as text, never parsed.
    const echo = nodes.find((n) => n.kind === 'process' && n.text.startsWith('echo ('));
    assert.ok(echo, 'echo is drawn');
    await page.locator(`[data-testid=tree] g.tree-node[data-id="${echo.id}"]`).click();
    await page.getByTestId('details').waitFor();
    const details = await page.getByTestId('details').innerText();
    assert.ok(
      details.includes(XSS_IMG) && details.includes(XSS_SCRIPT),
      'the arguments show verbatim',
    );
    assert.ok(
      (await page.getByTestId('timeline').innerText()).includes(XSS_IMG),
      'and in the timeline',
    );
    await assertNoInjection(page);

    // Keyboard: Escape closes the details; the selection leaves the URL.
    await page.getByTestId('tree').focus();
    await page.keyboard.press('Escape');
    await page.getByTestId('details').waitFor({ state: 'detached' });

    // Select cat, then follow the permalink in a fresh page.
    await page.locator(`[data-testid=tree] g.tree-node[data-id="${cat.id}"]`).click();
    await page.waitForURL((url) => url.searchParams.get('sel') === cat.id);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(artifactsDir, 'tree.png') });
    const permalink = page.url();

    const again = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    await again.goto(permalink);
    await again.locator('[data-testid=tree] g.tree-node[data-kind=file]').first().waitFor();
    assert.deepEqual(
      (await drawnNodes(again)).map((n) => n.id).sort(),
      nodes.map((n) => n.id).sort(),
      'the permalink draws the same nodes',
    );
    assert.ok((await again.getByTestId('details').innerText()).includes(cat.id), 'and selects cat');
    await assertNoInjection(again);

    // Hiding the leaves removes the network and file nodes, and the toggle is in the URL.
    await again.getByTestId('toggle-leaves').click();
    await again.waitForURL((url) => url.searchParams.get('leaves') === '0');
    await again
      .locator('[data-testid=tree] g.tree-node[data-kind=file]')
      .first()
      .waitFor({ state: 'detached' });
    await again.close();

    // Detections: sh is a shell under node, so shell-under-server-runtime fires on it. Its node
    // carries a severity-coloured marker whose title names the rule's title.
    const shNode = page.locator(`[data-testid=tree] g.tree-node[data-id="${sh.id}"]`);
    const shBadge = shNode.locator('g.detection-badge');
    // The agent stores detections in batches, like events: reload until the marker is drawn.
    for (let attempt = 0; attempt < 10; attempt++) {
      if (
        await shBadge.waitFor({ timeout: 2_000 }).then(
          () => true,
          () => false,
        )
      )
        break;
      await page.reload();
      await page.locator('[data-testid=tree] g.tree-node[data-kind=file]').first().waitFor();
    }
    assert.equal(await shBadge.getAttribute('data-severity'), 'high', 'a high-severity marker');
    assert.ok(
      ((await shBadge.locator('title').textContent()) ?? '').includes(
        'high: Server runtime started a shell',
      ),
      'the marker names the rule in its title',
    );
    // The details of sh list the detection with its explanation.
    await shNode.click();
    const shDetection = page
      .getByTestId('node-detections')
      .locator('[data-testid=detection-row][data-rule=shell-under-server-runtime]');
    await shDetection.waitFor();
    const explained = await shDetection.innerText();
    assert.ok(
      explained.includes('Server runtime started a shell') && /started by node/.test(explained),
      `the details explain the detection: ${explained}`,
    );
    await assertNoInjection(page);

    // The Overview lists it among the newest detections, linked to sh's process page.
    await page.goto(`${dashboard!.url}/?range=15m`);
    const listed = page.locator(
      `[data-testid=overview-detections] [data-testid=detection-row][data-exec-id="${sh.id}"]` +
        '[data-rule=shell-under-server-runtime]',
    );
    await listed.waitFor();
    assert.ok(/started by node/.test(await listed.innerText()), 'with its explanation');
    await page.screenshot({ path: join(artifactsDir, 'overview-detections.png') });
    await listed.getByTestId('detection-process').click();
    await page.waitForURL((url) => url.searchParams.get('execId') === sh.id);
    await assertNoInjection(page);
    await page.close();
    assert.deepEqual(errors, [], 'no script errors on the page');
  });

  test('a process started during the test appears on the Live page within a second', async () => {
    const marker = `e2e-live-${process.pid}-${Date.now()}`;
    const page = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    await page.goto(`${dashboard!.url}/live?args=${encodeURIComponent(marker)}`);
    await page.locator('[data-testid=live-status][data-state=live]').waitFor({ timeout: 10_000 });

    const startedMs = Date.now();
    const child = spawn('/bin/echo', [marker, XSS_IMG], { stdio: 'ignore' });
    await page
      .getByTestId('live-row')
      .filter({ hasText: marker })
      .first()
      .waitFor({ timeout: 5_000 });
    const latencyMs = Date.now() - startedMs;
    await exitOf(child);
    console.log(`# live: the exec appeared on the page ${latencyMs} ms after the spawn`);
    assert.ok(latencyMs < 1_000, `appeared after ${latencyMs} ms`);
    assert.ok(
      (await page.getByTestId('live-list').innerText()).includes(XSS_IMG),
      'markup shows as text',
    );
    await assertNoInjection(page);

    // Paused: new events wait instead of being drawn, and the state is in the URL.
    await page.getByTestId('pause').click();
    await page.waitForURL((url) => url.searchParams.get('paused') === '1');
    const rowsBefore = await page.getByTestId('live-row').count();
    await exitOf(spawn('/bin/echo', [marker, 'while paused'], { stdio: 'ignore' }));
    await page
      .getByTestId('live-rate')
      .filter({ hasText: /paused, [1-9]\d* waiting/ })
      .waitFor();
    assert.equal(
      await page.getByTestId('live-row').count(),
      rowsBefore,
      'nothing drawn while paused',
    );
    await page.screenshot({ path: join(artifactsDir, 'live.png') });
    await page.close();
  });
  /** bash (the target) runs cat on /etc/passwd, then echo; both forked, in that order. */
  async function openBashTree(page: Page, marker: string) {
    const bash = spawn(
      'bash',
      ['-c', `cat /etc/passwd >/dev/null; /bin/echo ${marker} >/dev/null; true`, marker],
      // Without SHELL or HOME bash looks its user up in /etc/passwd, and that read would be
      // drawn as bash's first child, ahead of cat: CI's environment may set neither.
      { stdio: 'ignore', env: { ...process.env, SHELL: '/bin/bash', HOME: '/root' } },
    );
    assert.equal(await exitOf(bash), 0);
    const bashId = await execIdByArgs(agent!.url, marker, 'bash');
    const echoId = await execIdByArgs(agent!.url, marker, 'echo');
    await page.goto(`${dashboard!.url}/process?execId=${encodeURIComponent(bashId)}`);
    const catNode = page.locator('[data-testid=tree] g.tree-node[data-kind=process]', {
      hasText: 'cat (',
    });
    // The children are stored in batches: reload until both are drawn.
    for (let attempt = 0; attempt < 10; attempt++) {
      const drawn = await page
        .locator(`[data-testid=tree] g.tree-node[data-id="${echoId}"]`)
        .waitFor({ timeout: 2_000 })
        .then(
          () => true,
          () => false,
        );
      if (drawn && (await catNode.count()) === 1) break;
      await page.reload();
    }
    const catId = (await catNode.getAttribute('data-id'))!;
    return { bashId, catId, echoId };
  }

  test('exports: the tree as Tetragon JSON lines, CSV and SVG each hold the processes drawn', async () => {
    const marker = `e2e-export-${process.pid}-${Date.now()}`;
    const page = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    const { bashId, catId, echoId } = await openBashTree(page, marker);

    const json = await downloaded(
      page,
      page.getByRole('button', { name: 'Export JSON (Tetragon)' }),
    );
    assert.match(json.name, /^proctrail-tree-.*\.jsonl$/);
    const events = json.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, { process?: { exec_id?: string } }>);
    const execIds = (kind: string) =>
      events.filter((e) => e[kind]).map((e) => e[kind]!.process?.exec_id);
    for (const id of [bashId, catId, echoId]) {
      assert.ok(execIds('process_exec').includes(id), `the exec of ${id} is exported`);
    }
    const catRead = events.find(
      (e) =>
        e.process_kprobe?.process?.exec_id === catId &&
        JSON.stringify(e.process_kprobe).includes('/etc/passwd'),
    );
    assert.ok(catRead, "cat's read of /etc/passwd is exported as a kprobe event");

    const csv = await downloaded(page, page.getByRole('button', { name: 'Export CSV' }));
    const rows = csv.text.trim().split('\n');
    assert.ok(rows[0]!.startsWith('exec_id,parent_exec_id,pid,binary,arguments'));
    const catRow = rows.find((row) => row.startsWith(`${catId},`));
    assert.ok(catRow, 'cat has a row');
    assert.ok(catRow.includes(`${bashId},`) && catRow.includes('/usr/bin/cat'), catRow);
    assert.ok(catRow.includes('read /etc/passwd'), `cat's row lists its file: ${catRow}`);
    assert.ok(rows.some((row) => row.startsWith(`${echoId},`) && row.includes(marker)));

    const svg = await downloaded(page, page.getByRole('button', { name: 'Export SVG' }));
    assert.match(svg.name, /\.svg$/);
    assert.ok(svg.text.startsWith('<svg') && svg.text.includes('viewBox='), 'a standalone SVG');
    for (const id of [bashId, catId, echoId]) {
      assert.ok(svg.text.includes(`data-id="${id}"`), `${id} is drawn in the SVG`);
    }
    assert.ok(svg.text.includes('>cat ('), "cat's label is in the SVG");
    assert.ok(!svg.text.includes('<script'), 'no script in the SVG');
    writeFileSync(join(artifactsDir, 'tree-export.svg'), svg.text);
    await page.close();
  });

  test('keyboard: arrows move the selection through the tree, Enter opens, Escape closes, / focuses search', async () => {
    const marker = `e2e-keys-${process.pid}-${Date.now()}`;
    const page = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    const { bashId, catId, echoId } = await openBashTree(page, marker);
    const selected = () => new URL(page.url()).searchParams.get('sel');
    const isSelected = (id: string) =>
      page.locator(`[data-testid=tree] g.tree-node.selected[data-id="${id}"]`).waitFor();

    await page.getByTestId('tree').focus();
    // From the target, right goes to its first child (cat started first), down to the next.
    await page.keyboard.press('ArrowRight');
    await isSelected(catId);
    assert.equal(selected(), catId);
    assert.ok((await page.getByTestId('details').innerText()).includes(catId), 'details of cat');
    await page.keyboard.press('ArrowDown');
    await isSelected(echoId);
    await page.keyboard.press('ArrowUp');
    await isSelected(catId);
    await page.keyboard.press('ArrowLeft');
    await isSelected(bashId);
    assert.equal(selected(), bashId);

    // Escape closes the details and clears the selection.
    await page.keyboard.press('Escape');
    await page.getByTestId('details').waitFor({ state: 'detached' });
    assert.equal(selected(), null);

    // "/" focuses the quick search from the tree; typed there, "/" is just a character.
    await page.keyboard.press('/');
    const search = page.getByLabel('Search binaries (press /)');
    assert.equal(await search.evaluate((e) => e === e.ownerDocument.activeElement), true);
    await page.keyboard.type('/usr/bin/cat');
    assert.equal(await search.inputValue(), '/usr/bin/cat');

    // Enter on another process opens its own page.
    await page.getByTestId('tree').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await isSelected(echoId);
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('execId') === echoId);
    await page.locator('[data-testid=tree] g.tree-node.target').waitFor();
    assert.equal(
      await page.locator('[data-testid=tree] g.tree-node.target').getAttribute('data-id'),
      echoId,
    );
    await page.close();
  });

  test('the theme toggle switches dark and light, and the choice survives a reload', async () => {
    const page = await browser!.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${dashboard!.url}/search`);
    const theme = () => page.evaluate('document.documentElement.dataset.theme ?? null');
    const background = () =>
      page.evaluate('getComputedStyle(document.body).backgroundColor') as Promise<string>;
    const toggle = page.getByRole('button', { name: 'Toggle theme' });

    await toggle.click();
    const first = await theme();
    assert.ok(first === 'dark' || first === 'light', `a theme is chosen: ${first}`);
    const firstBackground = await background();
    await toggle.click();
    const second = await theme();
    assert.notEqual(second, first, 'the toggle switches');
    assert.notEqual(await background(), firstBackground, 'and the page changes colour');

    await page.reload();
    await toggle.waitFor();
    assert.equal(await theme(), second, 'the choice survives a reload');
    assert.equal(await toggle.innerText(), second === 'light' ? '☾ dark' : '☀ light');
    await page.close();
  });

  test('the Overview counts follow its time range', async () => {
    const page = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    const totals = page.getByTestId('overview-totals');
    const eventsShown = async () => Number(await totals.getAttribute('data-events'));

    await page.goto(`${dashboard!.url}/?range=all`);
    await totals.waitFor();
    assert.ok((await eventsShown()) > 0, 'the agent has recorded events');

    // A day long before the agent started: nothing in it.
    await page.getByLabel('from').fill('2001-01-01T00:00:00');
    await page.getByLabel('until').fill('2001-01-02T00:00:00');
    await page.getByRole('button', { name: 'Apply range' }).click();
    await page.waitForURL((url) => url.searchParams.get('since')?.startsWith('2001-01-0') ?? false);
    await page.locator('[data-testid=overview-totals][data-events="0"]').waitFor();
    assert.match(await totals.innerText(), /^0 events · 0 executions/);

    // The last 15 minutes hold what the tests ran.
    await page.getByRole('button', { name: '15m', exact: true }).click();
    await page.waitForURL((url) => url.searchParams.get('range') === '15m');
    assert.equal(new URL(page.url()).searchParams.get('since'), null);
    await page.waitForFunction(
      `Number(document.querySelector('[data-testid=overview-totals]')?.getAttribute('data-events')) > 0`,
    );
    await page.close();
  });

  test('the Live page shows a banner when the agent reports lost events, and keeps up with the flood the ring held', async () => {
    // Loss is real here: the agent is stopped (SIGSTOP), so nothing drains the kernel's 4 MiB
    // ring buffer, while one process reads a watched file 300,000 times (about 17 MB of
    // records); the kernel counts every record it could not write, and the agent reports
    // them once it runs again.
    const page = await browser!.newPage({ viewport: { width: 1500, height: 950 } });
    await page.goto(`${dashboard!.url}/live`);
    await page.locator('[data-testid=live-status][data-state=live]').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('lost-banner').count(), 0, 'nothing lost yet');

    process.kill(agent!.child.pid!, 'SIGSTOP');
    try {
      assert.equal(await exitOf(readFileRepeatedly(watched, 0, 300_000)), 0);
    } finally {
      process.kill(agent!.child.pid!, 'SIGCONT');
    }
    // The agent first works through what the ring held; then the API says what was lost.
    let reported = 0;
    for (let attempt = 0; attempt < 120 && reported === 0; attempt++) {
      const answer = await fetch(`${agent!.url}/trpc/stats.summary`).catch(() => undefined);
      const body = (await answer?.json()) as
        { result?: { data: { lost: { total: number } | null } } } | undefined;
      reported = body?.result?.data.lost?.total ?? 0;
      if (reported === 0) await page.waitForTimeout(500);
    }
    assert.ok(reported > 0, 'the agent reports the loss');
    // What the ring did hold (about 75,000 events) is stored a thousand events a transaction
    // and sent in batches: the page takes it all, up to the 10,000 rows it keeps, without
    // being dropped as a slow consumer (it would then skip ahead and say so).
    await page.waitForFunction(
      `/\\b10,000 shown/.test(document.querySelector('[data-testid=live-rate]')?.textContent ?? '')`,
      undefined,
      { timeout: 60_000 },
    );
    assert.equal(await page.getByTestId('skipped-banner').count(), 0, 'the page was not dropped');
    assert.equal(
      await page.locator('[data-testid=live-status]').getAttribute('data-state'),
      'live',
    );
    // The banner asks every 5 s; the agent, still working through the flood, answers slowly.
    const banner = page.getByTestId('lost-banner');
    await banner.waitFor({ timeout: 60_000 });
    const text = await banner.innerText();
    const lost = Number(/lost ([\d,]+) events/.exec(text)?.[1]?.replace(/,/g, ''));
    assert.ok(lost > 0, text);
    assert.match(text, /ringbuf: [1-9]/, 'the reason is the ring buffer');
    await page.screenshot({ path: join(artifactsDir, 'live-lost.png') });
    await page.close();
  });
});
