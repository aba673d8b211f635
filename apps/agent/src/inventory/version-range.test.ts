import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, parseVersionRange } from './version-range';

test('versions order numerically, pre-releases before their release, trailing zeros equal', () => {
  const ordered = [
    '2.0-alpha1',
    '2.0-beta9',
    '2.0-rc1',
    '2.0',
    '2.0.1',
    '2.9.0',
    '2.14.1',
    '2.17.0',
    '2.17.1',
    '2.17.1.1',
  ];
  for (let i = 1; i < ordered.length; i++) {
    assert.ok(
      compareVersions(ordered[i - 1]!, ordered[i]!) < 0,
      `${ordered[i - 1]} < ${ordered[i]}`,
    );
  }
  assert.equal(compareVersions('2.0', '2.0.0'), 0);
  assert.equal(compareVersions('2.17.1', '2.17.1.Final'), 0);
});

test('a range holds when every comparator does', () => {
  const log4shell = parseVersionRange('< 2.17.1');
  assert.equal(log4shell.includes('2.14.1'), true);
  assert.equal(log4shell.includes('2.17.0'), true);
  assert.equal(log4shell.includes('2.17.1'), false);
  assert.equal(log4shell.includes('2.20.0'), false);
  const bounded = parseVersionRange('>= 2.0-beta9, < 2.15.0');
  assert.equal(bounded.includes('2.0-beta8'), false);
  assert.equal(bounded.includes('2.0-beta9'), true);
  assert.equal(bounded.includes('2.15.0'), false);
});

test('a comparator that does not parse is named in the error', () => {
  assert.throws(() => parseVersionRange('< 2.17.1, about 3'), /"about 3" is not a comparator/);
  assert.throws(() => parseVersionRange('<<1'), /"<<1"/);
});
