import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, constants, layouts } from './layout';

const headerDir = fileURLToPath(new URL('./bpf/', import.meta.url));
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

/** A C program that prints, for every struct and field the TypeScript side knows, the
 * compiler's view: "pt_exec.ppid 24", "sizeof pt_exec 208", "PT_WATCH_MAX 32". */
function layoutProbe(): string {
  const lines: string[] = [];
  for (const [struct, layout] of Object.entries(layouts)) {
    lines.push(`  printf("sizeof ${struct} %zu\\n", sizeof(struct ${struct}));`);
    for (const field of Object.keys(layout.fields)) {
      lines.push(`  printf("${struct}.${field} %zu\\n", offsetof(struct ${struct}, ${field}));`);
    }
  }
  for (const name of Object.keys(constants))
    lines.push(`  printf("${name} %d\\n", (int)(${name}));`);
  for (const kind of Object.keys(Kind)) {
    lines.push(`  printf("kind.${kind} %d\\n", (int)PT_KIND_${kind.toUpperCase()});`);
  }
  return [
    '#include <linux/types.h>',
    '#include <stddef.h>',
    '#include <stdio.h>',
    '#include "records.h"',
    'int main(void) {',
    ...lines,
    '  return 0;',
    '}',
  ].join('\n');
}

function expected(): string[] {
  const lines: string[] = [];
  for (const [struct, layout] of Object.entries(layouts)) {
    lines.push(`sizeof ${struct} ${layout.size}`);
    for (const [field, offset] of Object.entries(layout.fields)) {
      lines.push(`${struct}.${field} ${offset}`);
    }
  }
  for (const [name, value] of Object.entries(constants)) lines.push(`${name} ${value}`);
  for (const [kind, value] of Object.entries(Kind)) lines.push(`kind.${kind} ${value}`);
  return lines;
}

test(
  'the TypeScript layout matches records.h as gcc lays it out',
  { skip: !hasGcc && 'gcc is not installed' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'proctrail-layout-'));
    try {
      writeFileSync(join(dir, 'probe.c'), layoutProbe());
      execFileSync('gcc', [
        '-Wall',
        '-Werror',
        '-I',
        headerDir,
        '-o',
        join(dir, 'probe'),
        join(dir, 'probe.c'),
      ]);
      const actual = execFileSync(join(dir, 'probe'), { encoding: 'utf8' }).trim().split('\n');
      assert.deepEqual(actual, expected());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('every struct in records.h has a TypeScript layout', () => {
  const header = execFileSync(
    'grep',
    ['-o', '^struct pt_[a-z_]* {', join(headerDir, 'records.h')],
    {
      encoding: 'utf8',
    },
  );
  const structs = header
    .trim()
    .split('\n')
    .map((line) => line.split(' ')[1]);
  assert.deepEqual(structs.sort(), Object.keys(layouts).sort());
});

test('each struct lists every field, so a field added in C changes a size or an offset', () => {
  for (const [struct, layout] of Object.entries(layouts)) {
    const offsets = Object.values(layout.fields);
    assert.equal(new Set(offsets).size, offsets.length, `${struct} has two fields at one offset`);
    assert.ok(Math.max(...offsets) < layout.size, `${struct}'s last field starts inside it`);
  }
});
