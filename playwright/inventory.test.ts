/**
 * The Inventory page and the process page's loads in Chromium, on an imported capture served
 * by `proctrail serve`: a vulnerable log4j-core jar loaded by two java processes (one still
 * running), and a library whose path looks like markup, which must show as text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execIdFor, type TetragonProcess } from '@proctrail/schema';
import { ImportedDashboard } from './harness';

const at = (second: number) => `2026-03-01T10:00:${String(second).padStart(2, '0')}.000000000Z`;
const LOG4J = '/srv/app/lib/log4j-core-2.14.1.jar';
const HOSTILE = '/tmp/<img src=x onerror="window.__injected=1">.so';

function proc(node: string, pid: number, second: number): TetragonProcess {
  return {
    exec_id: execIdFor(node, BigInt(second) * 1_000_000_000n, pid),
    pid,
    binary: '/usr/bin/java',
    flags: 'execve clone',
    start_time: at(second),
    parent_exec_id: execIdFor(node, 1n, 1),
    binary_hash: { sha256: 'b'.repeat(64) },
  };
}

const running = proc('host-a', 201, 1);
const exited = proc('host-b', 202, 5);
const line = (node: string, time: string, body: object) =>
  JSON.stringify({ ...body, node_name: node, time });
const jar = {
  path: LOG4J,
  hash: { sha256: 'a'.repeat(64) },
  software: { name: 'log4j-core', version: '2.14.1' },
  advisories: ['CVE-2021-44228'],
};

describe('the inventory in the browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-inventory-web-'));
  const site = new ImportedDashboard();

  before(async () => {
    const capture = join(dir, 'capture.jsonl');
    writeFileSync(
      capture,
      [
        line('host-a', at(1), { process_exec: { process: running } }),
        line('host-a', at(2), { process_loader: { process: running, ...jar } }),
        line('host-a', at(3), { process_loader: { process: running, path: HOSTILE } }),
        line('host-b', at(5), { process_exec: { process: exited } }),
        line('host-b', at(6), { process_loader: { process: exited, ...jar } }),
        line('host-b', at(8), { process_exit: { process: exited, time: at(8) } }),
      ].join('\n') + '\n',
    );
    await site.start(capture, join(dir, 'inventory.db'));
  });

  after(async () => {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the Inventory page flags the vulnerable jar with its hosts, running count and last load', async () => {
    const page = await site.browser!.newPage();
    await page.goto(
      `${site.dashboard!.url}/inventory?library=${encodeURIComponent('log4j-core*')}`,
    );
    const file = page.locator(`[data-testid="inventory-file"][data-path="${LOG4J}"]`);
    await file.waitFor();
    const text = await file.innerText();
    assert.match(text, /log4j-core 2\.14\.1/);
    assert.match(text, /vulnerable: CVE-2021-44228/i);
    assert.match(text, /host-a, host-b/);
    assert.match(text, /2 \(1\)/, 'two processes, one running');
    assert.match(text, /2026-03-01T10:00:06/);
    assert.equal(await page.locator('[data-testid="inventory-load"]').count(), 2);

    await page.getByLabel('running only').click();
    await page.waitForURL((url) => url.searchParams.get('running') === '1');
    await page.locator('[data-testid="inventory-load"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="inventory-load"]').count(), 1);
  });

  test("the process page lists the process's loads; a path that looks like markup is text", async () => {
    const page = await site.browser!.newPage();
    await page.goto(
      `${site.dashboard!.url}/process?execId=${encodeURIComponent(running.exec_id!)}`,
    );
    const loads = page.locator('[data-testid="process-loads"]');
    await loads.waitFor();
    const text = await loads.innerText();
    assert.match(text, /vulnerable/i);
    assert.ok(text.includes(HOSTILE), 'the hostile path shown as written');
    assert.equal(
      await page.evaluate(() => (globalThis as { __injected?: number }).__injected),
      undefined,
    );
  });
});
