/**
 * The fleet in Chromium: a capture of two nodes (the same pid on each, different programs),
 * served by `proctrail serve`. The Overview lists both nodes with their events, rate and last
 * event; a node's link opens Search filtered to it, in the URL, showing only its processes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execIdFor, type TetragonProcess } from '@proctrail/schema';
import { ImportedDashboard } from './harness';

const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, '0')}:00.000000000Z`;
const PID = 4242;

function exec(node: string, binary: string, minute: number): string {
  const process: TetragonProcess = {
    exec_id: execIdFor(node, BigInt(minute) * 60_000_000_000n, PID),
    pid: PID,
    binary,
    flags: 'execve clone',
    start_time: at(minute),
    parent_exec_id: execIdFor(node, 1n, 1),
  };
  return JSON.stringify({ process_exec: { process }, node_name: node, time: at(minute) });
}

describe('the fleet in the browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-fleet-web-'));
  const site = new ImportedDashboard();

  before(async () => {
    const capture = join(dir, 'fleet.jsonl');
    const lines = [
      // node-a: three execs of /usr/bin/alpha over minutes 0 to 2; node-b: one of beta at 5.
      exec('node-a', '/usr/bin/alpha', 0),
      exec('node-a', '/usr/bin/alpha', 1),
      exec('node-a', '/usr/bin/alpha', 2),
      exec('node-b', '/usr/bin/beta', 5),
    ];
    writeFileSync(capture, lines.join('\n') + '\n');
    await site.start(capture, join(dir, 'fleet.db'));
  });

  after(async () => {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the Overview lists each node with its events, rate and last event', async () => {
    const page = await site.browser!.newPage();
    await page.goto(`${site.dashboard!.url}/?range=all`);
    const nodes = page.locator('[data-testid="overview-nodes"]');
    await nodes.locator('tr[data-node="node-b"]').waitFor();

    const rowA = await nodes.locator('tr[data-node="node-a"]').innerText();
    const rowB = await nodes.locator('tr[data-node="node-b"]').innerText();
    // All time: a node's rate is over its own first to last event (2 minutes for node-a).
    assert.match(rowA, /node-a\s+3\s+1\.5\s+2026-03-01T10:02:00/);
    assert.match(rowB, /node-b\s+1\s+1\s+2026-03-01T10:05:00/);
  });

  test("a node's link opens Search filtered to that node, in the URL", async () => {
    const page = await site.browser!.newPage();
    await page.goto(`${site.dashboard!.url}/?range=all`);
    const link = page.locator('[data-testid="overview-nodes"] tr[data-node="node-b"] a');
    await link.click();
    await page.waitForURL((url) => url.pathname === '/search');
    assert.equal(new URL(page.url()).searchParams.get('node'), 'node-b');

    await page.locator('[data-testid="search-result"]').first().waitFor();
    const results = await page.locator('[data-testid="search-result"]').allInnerTexts();
    assert.equal(results.length, 1, results.join('\n'));
    assert.match(results[0]!, /\bbeta \(4242\)/);

    await page.goto(`${site.dashboard!.url}/search?node=node-a`);
    await page.locator('[data-testid="search-result"]').first().waitFor();
    const a = await page.locator('[data-testid="search-result"]').allInnerTexts();
    assert.equal(a.length, 3);
    for (const text of a) assert.match(text, /\balpha \(4242\)/);
  });
});
