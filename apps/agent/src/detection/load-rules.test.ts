import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli, scratchDir } from '../testing/harness';
import { BUILTIN_RULES_DIR, loadRulesDir, parseRuleFile } from './load-rules';

const scratch = scratchDir();
after(() => scratch.remove());

const VALID = `rules:
  - name: curl-anywhere
    title: curl ran
    severity: low
    on: [exec]
    match:
      process: { binary: [curl] }
    explanation: '{binary} ran'
`;

const MALFORMED = `rules:
  - name: good-one
    title: fine
    severity: low
    on: [exec]
    explanation: '{binary}'
  - name: bad-one
    title: broken
    severity: severe
    on: [exec]
    match:
      process:
        binray: [sh]
    explanation: '{binary} in {nowhere}'
`;

describe('rule files', () => {
  test('a malformed rule is rejected with its line and field; the valid rule beside it is kept', () => {
    const loaded = parseRuleFile(MALFORMED, 'bad.yaml');
    assert.deepEqual(
      loaded.rules.map((r) => r.name),
      ['good-one'],
    );
    const byField = Object.fromEntries(loaded.problems.map((p) => [p.field, p.line]));
    assert.equal(byField['rules.1.severity'], 9);
    assert.equal(byField['rules.1.match.process.binray'], 13);
  });

  test('an unknown placeholder in the explanation is named with its line', () => {
    const text = VALID.replace("'{binary} ran'", "'{binary} ran as {usr}'");
    const [problem] = parseRuleFile(text, 'p.yaml').problems;
    assert.equal(problem!.field, 'rules.0.explanation');
    assert.equal(problem!.line, 8);
    assert.match(problem!.message, /\{usr\}/);
  });

  test('broken YAML is reported at its line', () => {
    const [problem] = parseRuleFile(
      'rules:\n  - name: x\n    title: [unclosed\n',
      'y.yaml',
    ).problems;
    assert.equal(problem!.field, '(yaml)');
    assert.ok(problem!.line >= 3);
  });

  test('a folder with one malformed file still loads every valid rule', () => {
    const dir = join(scratch.dir, 'rules');
    mkdirSync(dir);
    copyFileSync(join(BUILTIN_RULES_DIR, 'shells.yaml'), join(dir, 'shells.yaml'));
    writeFileSync(join(dir, 'bad.yaml'), MALFORMED);
    const loaded = loadRulesDir(dir);
    const names = loaded.rules.map((r) => r.name);
    assert.ok(names.includes('reverse-shell') && names.includes('good-one'));
    assert.ok(!names.includes('bad-one'));
    assert.ok(loaded.problems.every((p) => p.file.endsWith('bad.yaml')));
  });

  test('proctrail rules check prints FILE:LINE: FIELD and exits 1 for a bad file, 0 for a good one', async () => {
    const bad = join(scratch.dir, 'check-bad.yaml');
    const good = join(scratch.dir, 'check-good.yaml');
    writeFileSync(bad, MALFORMED);
    writeFileSync(good, VALID);
    const failed = await runCli(['rules', 'check', bad]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /check-bad\.yaml:9: rules\.1\.severity: /);
    assert.match(failed.stderr, /check-bad\.yaml:13: rules\.1\.match\.process\.binray: /);
    const passed = await runCli(['rules', 'check', good, ...builtinFiles()]);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /check-good\.yaml: 1 valid rules \(curl-anywhere\)/);
  });

  test('proctrail rules check takes a folder as --rules loads it: names unique across its files', async () => {
    const builtin = await runCli(['rules', 'check', BUILTIN_RULES_DIR]);
    assert.equal(builtin.code, 0, builtin.stderr);
    assert.match(builtin.stdout, /rules: \d+ valid rules \(.*reverse-shell/);
    const folder = join(scratch.dir, 'twice');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.yaml'), VALID);
    writeFileSync(join(folder, 'b.yaml'), VALID);
    const twice = await runCli(['rules', 'check', folder]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /b\.yaml:1: name: rule curl-anywhere is defined twice/);
  });
});

function builtinFiles(): string[] {
  return ['shells.yaml', 'server-runtime.yaml', 'binaries.yaml'].map((f) =>
    join(BUILTIN_RULES_DIR, f),
  );
}
