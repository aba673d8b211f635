/**
 * What the agent's tests share: the CLI run in-process with its output captured, throwaway
 * directories for databases, and the real Tetragon corpus, read where it lies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `proctrail ARGS` in this process and returns its exit code and what it printed. The
 * CLI writes text through process.stdout and process.stderr (console included), so string
 * writes are captured for the duration of the call. Buffers pass through: under `node --test`
 * they are the runner's own messages to its parent, which must not be swallowed.
 */
export async function runCli(args: string[]): Promise<CliRun> {
  const stdout = capture(process.stdout);
  const stderr = capture(process.stderr);
  try {
    const code = await main(args);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    stdout.restore();
    stderr.restore();
    // main() leaves the code in process.exitCode for the launcher; the test process must not
    // inherit a 2 from an import that skipped lines on purpose.
    process.exitCode = 0;
  }
}

function capture(stream: NodeJS.WriteStream): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const real = stream.write;
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return real.call(stream, chunk, ...rest);
    chunks.push(chunk);
    return true;
  }) as typeof stream.write;
  return { text: () => chunks.join(''), restore: () => (stream.write = real) };
}

/** A fresh directory under the system's temporary directory, and a way to remove it. */
export function scratchDir(): { dir: string; db: (name?: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-test-'));
  return {
    dir,
    db: (name = 'proctrail.db') => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The real Tetragon corpus shared beside the repository (../shared/corpus/tetragon). */
export const CORPUS_DIR = fileURLToPath(
  new URL('../../../../../shared/corpus/tetragon/', import.meta.url),
);

export function corpusFile(name: string): string {
  return join(CORPUS_DIR, name);
}

/** Parses the stdout of a `--json` command. */
export function jsonOf<T>(run: CliRun): T {
  return JSON.parse(run.stdout) as T;
}
