/**
 * `npm run bench`: finds every `*.bench.ts` in the repository, runs each in its own process
 * and prints the figures they report as one table. `npm run bench -- import` runs only the
 * files whose path contains "import".
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BenchRow } from './bench-report';

const root = new URL('..', import.meta.url).pathname;
const skipDirs = new Set(['node_modules', '.git', 'build', '.next', 'data']);

function findBenchFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skipDirs.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findBenchFiles(path));
    else if (entry.name.endsWith('.bench.ts')) found.push(relative(root, path));
  }
  return found.sort();
}

function runBenchFile(file: string): Promise<{ rows: BenchRow[]; status: number }> {
  return new Promise((resolve) => {
    const rows: BenchRow[] = [];
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let pending = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('BENCH ')) rows.push(JSON.parse(line.slice(6)) as BenchRow);
        else process.stderr.write(`  ${line}\n`);
      }
    });
    child.on('close', (code) => resolve({ rows, status: code ?? 1 }));
  });
}

function formatTable(rows: Array<BenchRow & { file: string }>): string {
  const header = ['benchmark', 'value', 'unit', 'goal', 'met', 'detail'];
  const body = rows.map((r) => [
    r.name,
    Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(2),
    r.unit,
    r.goal ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
    r.detail ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const filters = process.argv.slice(2);
const files = findBenchFiles(root).filter(
  (f) => !filters.length || filters.some((x) => f.includes(x)),
);
const all: Array<BenchRow & { file: string }> = [];
let failed = 0;
for (const file of files) {
  console.error(`bench: ${file}`);
  const { rows, status } = await runBenchFile(file);
  if (status !== 0) {
    failed++;
    console.error(`bench: ${file} exited with status ${status}`);
  }
  all.push(...rows.map((r) => ({ ...r, file })));
}
console.log(formatTable(all));
process.exit(failed ? 1 : 0);
