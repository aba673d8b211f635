#!/usr/bin/env node
// Runs every *.test.ts of the repository with Node's test runner (through tsx's loader).
// Node 20's runner takes no globs, so the files are listed here. Tests that need the kernel
// (*.kernel.test.ts) run one file at a time after the others: they share the host's BPF
// hooks and a busy neighbour would skew what they count.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const skipDirs = new Set(['node_modules', '.git', 'build', '.next', 'data']);
const args = process.argv.slice(2);
const withKernel = !args.includes('--no-kernel');
const only = args.filter((a) => !a.startsWith('--'));

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipDirs.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith('.test.ts')) found.push(relative(root, path));
  }
  return found.sort();
}

const all = findTests(root).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const kernel = all.filter((f) => f.endsWith('.kernel.test.ts'));
const plain = all.filter((f) => !f.endsWith('.kernel.test.ts'));

function run(files, concurrency) {
  if (files.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
    { cwd: root, stdio: 'inherit' },
  );
  return result.status ?? 1;
}

let status = run(plain, 2);
if (withKernel) status = run(kernel, 1) || status;
process.exit(status);
