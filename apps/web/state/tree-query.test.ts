import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_MAX_DESCENDANTS, MAX_DEPTH, treeInputOf, treeQueryUrl } from './tree-query';

describe("the process page's tree query", () => {
  test('the URL the server preloads is the URL the page fetches, from the same page address', () => {
    const address = new URL('http://dash/process?execId=YmFzaDox%3D%3D&source=lab&max=5000&sel=x');
    // The page reads useSearchParams; the server reads Next's searchParams record.
    const fromBrowser = treeInputOf(address.searchParams);
    const record: Record<string, string> = Object.fromEntries(address.searchParams);
    const fromServer = treeInputOf({ get: (name) => record[name] ?? null });
    assert.deepEqual(fromBrowser, {
      execId: 'YmFzaDox==',
      source: 'lab',
      maxDescendants: 5000,
      maxDepth: MAX_DEPTH,
    });
    assert.equal(treeQueryUrl(fromServer!), treeQueryUrl(fromBrowser!));
    assert.equal(
      treeQueryUrl(fromBrowser!),
      `/trpc/process.tree?input=${encodeURIComponent(JSON.stringify(fromBrowser))}`,
    );
  });

  test('without an exec_id there is no query; a missing or bad cap is the default', () => {
    assert.equal(treeInputOf(new URLSearchParams('max=10')), null);
    const input = treeInputOf(new URLSearchParams('execId=a&max=lots'));
    assert.deepEqual(input, {
      execId: 'a',
      source: undefined,
      maxDescendants: DEFAULT_MAX_DESCENDANTS,
      maxDepth: MAX_DEPTH,
    });
    // An absent source is left out of the URL, not sent as null.
    assert.ok(!treeQueryUrl(input!).includes('source'));
  });
});
