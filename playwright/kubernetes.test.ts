/**
 * Kubernetes in Chromium: Tetragon's documentation examples (pods xwing and test-pod on three
 * nodes) served by `proctrail serve`. The Overview's node -> namespace -> pod picker narrows
 * each level to the one above and opens Search filtered to the pod; Search's container and
 * workload fields filter too, and keep their values in the URL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImportedDashboard, repoRoot } from './harness';

const corpus = join(repoRoot, '..', 'shared', 'corpus', 'tetragon', 'tetragon-docs-examples.jsonl');

describe('Kubernetes in the browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-k8s-web-'));
  const site = new ImportedDashboard();

  before(async () => {
    await site.start(corpus, join(dir, 'k8s.db'));
  });

  after(async () => {
    await site.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the Overview picks a node, then a namespace, then a pod, and opens its processes', async () => {
    const page = await site.browser!.newPage();
    await page.goto(`${site.dashboard!.url}/?range=all`);
    const picker = page.locator('[data-testid="overview-pods"]');
    const options = (name: string) =>
      picker.locator(`select[name="${name}"] option`).allInnerTexts();
    // The page re-renders from the URL after each choice: wait for the options to follow.
    const optionsBecome = async (name: string, expected: string[]) => {
      const deadline = Date.now() + 10_000;
      let seen = await options(name);
      while (JSON.stringify(seen) !== JSON.stringify(expected) && Date.now() < deadline) {
        await page.waitForTimeout(50);
        seen = await options(name);
      }
      assert.deepEqual(seen, expected, `the ${name} options`);
    };
    await picker.locator('select[name="podNode"]').waitFor();
    await optionsBecome('podNode', [
      'every node',
      'gke-john-632-default-pool-7041cac0-9s95',
      'kind-control-plane',
    ]);

    await picker.locator('select[name="podNode"]').selectOption('kind-control-plane');
    await page.waitForURL((url) => url.searchParams.get('podNode') === 'kind-control-plane');
    await optionsBecome('podNamespace', ['every namespace', 'default', 'demo-app']);
    await picker.locator('select[name="podNamespace"]').selectOption('demo-app');
    await page.waitForURL((url) => url.searchParams.get('podNamespace') === 'demo-app');
    await optionsBecome('pod', ['every pod', 'test-pod (2)']);
    await picker.locator('select[name="pod"]').selectOption('test-pod');
    await page.waitForURL((url) => url.searchParams.get('pod') === 'test-pod');

    await picker.locator('[data-testid="pod-search-link"]').click();
    await page.waitForURL((url) => url.pathname === '/search');
    const params = new URL(page.url()).searchParams;
    assert.equal(params.get('node'), 'kind-control-plane');
    assert.equal(params.get('namespace'), 'demo-app');
    assert.equal(params.get('pod'), 'test-pod');
    await page.locator('[data-testid="search-result"]').first().waitFor();
    const results = await page.locator('[data-testid="search-result"]').allInnerTexts();
    assert.equal(results.length, 2, results.join('\n'));
    assert.ok(
      results.some((r) => /\bmount\b/.test(r)),
      results.join('\n'),
    );
    await page.screenshot({
      path: join(repoRoot, 'playwright', 'artifacts', 'k8s-pod-picker.png'),
    });
  });

  test('Search filters by container name or id and by workload, kept in the URL', async () => {
    const page = await site.browser!.newPage();
    await page.goto(`${site.dashboard!.url}/search`);
    await page.locator('input[name="container"]').fill('551e161c47d8');
    await page.locator('form[aria-label="filters"] button[type="submit"]').click();
    await page.waitForURL((url) => url.searchParams.get('container') === '551e161c47d8');
    await page.locator('[data-testid="search-result"]').first().waitFor();
    const byId = await page.locator('[data-testid="search-result"]').allInnerTexts();
    assert.equal(byId.length, 2, byId.join('\n'));
    assert.ok(
      byId.some((r) => /\bcurl\b/.test(r)),
      byId.join('\n'),
    );

    await page.goto(`${site.dashboard!.url}/search?workload=test-pod`);
    await page.locator('[data-testid="search-result"]').first().waitFor();
    const byWorkload = await page.locator('[data-testid="search-result"]').allInnerTexts();
    assert.equal(byWorkload.length, 2, byWorkload.join('\n'));
    assert.equal(await page.locator('input[name="workload"]').inputValue(), 'test-pod');
  });
});
