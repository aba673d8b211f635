/** Workloads the benchmarks run: real processes, timed from this (non-blocking) process. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a command to completion; resolves with its wall time in ms. Never spawnSync: a
 * blocked event loop would stop the sensor's batches and turn into kernel drops. */
export function timed(command: string, args: string[], cwd?: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e6);
    });
  });
}

/** A C project of `files` small translation units and a Makefile; returns its directory. */
export function generateCProject(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-cproject-'));
  const names: string[] = [];
  for (let i = 0; i < files; i++) {
    names.push(`unit${i}`);
    writeFileSync(
      join(dir, `unit${i}.c`),
      [
        '#include <stdio.h>',
        '#include <stdlib.h>',
        '#include <string.h>',
        `int unit${i}(int n) {`,
        '  char buf[64]; int sum = 0;',
        '  for (int k = 0; k < n; k++) { snprintf(buf, sizeof buf, "%d", k); sum += (int)strlen(buf); }',
        '  return sum;',
        '}',
      ].join('\n'),
    );
  }
  const objects = names.map((n) => `${n}.o`).join(' ');
  writeFileSync(
    join(dir, 'Makefile'),
    `all: lib.a\nlib.a: ${objects}\n\tar rcs $@ $^\n%.o: %.c\n\tcc -O2 -c $< -o $@\nclean:\n\trm -f *.o lib.a\n`,
  );
  return dir;
}

/** A program that opens `path` and reads one byte of it `count` times. */
export async function buildReader(path: string, count: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-reader-'));
  writeFileSync(
    join(dir, 'reader.c'),
    [
      '#include <fcntl.h>',
      '#include <unistd.h>',
      'int main(void) {',
      `  int fd = open(${JSON.stringify(path)}, O_RDONLY);`,
      '  char c;',
      '  if (fd < 0) return 1;',
      `  for (long i = 0; i < ${count}L; i++) if (pread(fd, &c, 1, 0) != 1) return 2;`,
      '  return 0;',
      '}',
    ].join('\n'),
  );
  await timed('cc', ['-O2', '-o', join(dir, 'reader'), join(dir, 'reader.c')]);
  return join(dir, 'reader');
}
