import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadPolicySet } from './compile';
import { EXAMPLE_POLICIES_DIR, formatPolicyProblem, parsePolicyFile } from './load-policies';

const dir = mkdtempSync(join(tmpdir(), 'proctrail-policies-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The problems of one policy (indented under `policies:`), as `policy check` prints them. */
function problemsOf(...policyLines: string[]): string[] {
  const text = ['policies:', ...policyLines.map((line) => `  ${line}`), ''].join('\n');
  return parsePolicyFile(text, 'p.yaml').problems.map(formatPolicyProblem);
}

const KILL_SHELLS = [
  '- name: kill-shells',
  '  title: shells under java',
  '  on: exec',
  '  action: kill',
  '  match:',
  '    process:',
  '      binary: [bash]',
  '    ancestor:',
  '      binary: [java]',
];

describe('policy files', () => {
  test('the shipped examples are valid, and say what they select', () => {
    const compiled = loadPolicySet([EXAMPLE_POLICIES_DIR], {});
    assert.deepEqual(compiled.problems, []);
    assert.deepEqual(
      compiled.summaries.map((s) => `${s.name}: ${s.on} ${s.action} (${s.mode}): ${s.selects}`),
      [
        'egress-private-only-under-java: connect deny (dry-run): java and everything under it',
        'java-egress-allow-list: connect deny (enforce): java in /proctrail-lab',
        'kill-shells-under-java: exec kill (enforce): sh, bash, dash, zsh, ksh, ash, mksh, ' +
          'busybox under java in /proctrail-lab',
      ],
    );
  });

  test('--policy-dry-run makes every blocking policy a dry run; alert stays alert', () => {
    const file = join(dir, 'two.yaml');
    writeFileSync(
      file,
      ['policies:', ...KILL_SHELLS, ...KILL_SHELLS]
        .join('\n')
        .replace(/kill-shells\n([\s\S]*)kill-shells/, 'kill-shells\n$1note-shells')
        .replace(/(note-shells[\s\S]*)action: kill/, '$1action: alert'),
    );
    const compiled = loadPolicySet([file], { dryRun: true });
    assert.deepEqual(compiled.problems, []);
    assert.deepEqual(
      compiled.summaries.map((s) => [s.name, s.mode]),
      [
        ['kill-shells', 'dry-run'],
        ['note-shells', 'alert'],
      ],
    );
    assert.deepEqual(
      compiled.kernel.map((k) => [k.dryRun, k.alertOnly]),
      [
        [true, false],
        [false, true],
      ],
    );
  });

  test('an open-deny policy is rejected, never weakened', () => {
    const [problem, ...more] = problemsOf(...KILL_SHELLS.map((l) => l.replace('exec', 'open')));
    assert.deepEqual(more, []);
    assert.match(
      problem!,
      /^p\.yaml:4: policies\.0\.on: no hook on this kernel can make an open fail/,
    );
  });

  test('inInitTree selects by pid-namespace init tree in the kernel; inContainer is refused', () => {
    const file = join(dir, 'init-tree.yaml');
    const entered = KILL_SHELLS.slice(0, 7).concat('      inInitTree: false', KILL_SHELLS.slice(7));
    writeFileSync(file, ['policies:', ...entered].join('\n'));
    const compiled = loadPolicySet([file], {});
    assert.deepEqual(compiled.problems, []);
    assert.equal(compiled.kernel[0]!.initTree, 'outside');
    assert.equal(
      compiled.summaries[0]!.selects,
      'bash under java entered into its pid namespace from outside',
    );

    const [problem] = problemsOf(
      ...KILL_SHELLS.slice(0, 7),
      '      inContainer: true',
      ...KILL_SHELLS.slice(7),
    );
    assert.match(problem!, /^p\.yaml:9: .*inContainer: inContainer is not matched in the kernel/);
  });

  test('each problem names its line and field', () => {
    const wrong = (from: string, to: string) =>
      problemsOf(...KILL_SHELLS.map((l) => l.replace(from, to)));
    assert.deepEqual(wrong('action: kill', 'action: deny'), [
      'p.yaml:5: policies.0.action: an exec policy kills (kill) or reports (alert)',
    ]);
    assert.deepEqual(wrong('[bash]', '[ba*]'), [
      'p.yaml:8: policies.0.match.process.binary.0: kernel policies match exact basenames or ' +
        'absolute paths; globs are not supported',
    ]);
    assert.deepEqual(wrong('name: kill-shells', 'name: Kill Shells'), [
      'p.yaml:2: policies.0.name: expected lower-case words joined by -',
    ]);
    const [argumentsProblem] = problemsOf(
      ...KILL_SHELLS.slice(0, 7),
      '      argumentsMatch: "-i"',
      ...KILL_SHELLS.slice(7),
    );
    assert.match(argumentsProblem!, /^p\.yaml:9: .*argumentsMatch: arguments are not matched/);
  });

  test('a connect policy gives allow or deny, and a selector that names a binary', () => {
    const connect = [
      '- name: egress',
      '  title: java egress',
      '  on: connect',
      '  action: deny',
      '  match:',
      '    cgroup: /lab',
    ];
    const problems = problemsOf(...connect);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.ok(
      problems.some((p) => /policies\.0\.allow: a connect policy gives either allow/.test(p)),
    );
    assert.ok(problems.some((p) => /policies\.0\.match: name a binary/.test(p)));
    const bad = problemsOf(
      ...connect.slice(0, 5),
      '    process:',
      '      binary: [java]',
      '  allow:',
      '    - cidr: 300.0.0.1/8',
    );
    assert.deepEqual(bad, [
      'p.yaml:10: policies.0.allow.0.cidr: expected an IP address or a CIDR range such as 10.0.0.0/8',
    ]);
  });

  test('names are unique across files, and a missing cgroup is a problem where it is loaded', () => {
    const one = join(dir, 'one.yaml');
    const other = join(dir, 'other.yaml');
    writeFileSync(one, ['policies:', ...KILL_SHELLS].join('\n'));
    writeFileSync(other, ['policies:', ...KILL_SHELLS, '    cgroup: /no-such-lab'].join('\n'));
    const duplicate = loadPolicySet([one, other], {});
    assert.deepEqual(duplicate.problems.map(formatPolicyProblem), [
      `${other}:2: name: policy kill-shells is already defined in ${one}:2`,
    ]);
    const missing = loadPolicySet([other], { cgroupRoot: dir });
    assert.equal(missing.problems.length, 1);
    assert.match(
      formatPolicyProblem(missing.problems[0]!),
      /:2: match\.cgroup: cgroup \/no-such-lab does not exist/,
    );
  });
});
