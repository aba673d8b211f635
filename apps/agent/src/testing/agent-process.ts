/**
 * Real `proctrail` processes for end-to-end tests: the agent started the way a user starts
 * it, on an ephemeral loopback port, and any other command run as a child with its output
 * collected.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WriteBacklog } from '../pipeline/write-queue';

export const cliPath = fileURLToPath(new URL('../../bin/proctrail.js', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

export interface RunningAgent {
  child: ChildProcess;
  /** The API's base URL, such as http://127.0.0.1:40123. */
  url: string;
}

/** Starts `proctrail agent` on `db`; resolves once its log says it records. */
/** `--store URL` for a PostgreSQL URL, `--db FILE` for anything else. */
export function storeArgs(db: string): string[] {
  return /^postgres(ql)?:\/\//.test(db) ? ['--store', db] : ['--db', db];
}

export async function startAgentProcess(
  db: string,
  extraArgs: string[] = [],
  timeoutMs = 30_000,
): Promise<RunningAgent> {
  const child = spawn(
    process.execPath,
    [
      cliPath,
      'agent',
      ...storeArgs(db),
      '--listen',
      '127.0.0.1:0',
      '--node-name',
      'e2e',
      ...extraArgs,
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PROCTRAIL_LOG_LEVEL: 'info' },
    },
  );
  const lines = createInterface({ input: child.stderr! });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the agent did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'recording') {
        clearTimeout(timer);
        resolve(entry.url!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the agent exited with ${code} before recording`));
    });
  });
  return { child, url };
}

/** Stops an agent started by startAgentProcess with SIGTERM, if it still runs, and waits. */
export async function stopAgentProcess(agent: RunningAgent | undefined): Promise<void> {
  if (!agent || agent.child.exitCode !== null) return;
  const exited = new Promise((resolve) => agent.child.once('exit', resolve));
  agent.child.kill('SIGTERM');
  await exited;
}

/** The write backlog a running agent reports in /healthz. */
export async function healthBacklog(url: string): Promise<WriteBacklog> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as { backlog?: WriteBacklog };
  assert.ok(health.backlog, 'the agent reports a backlog');
  return health.backlog;
}

/** Reads every 250 ms until `ok` holds, failing with the last value after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface CommandRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `proctrail ARGS` as a child process and collects what it printed. */
export function runCliProcess(args: string[], timeoutMs = 120_000): Promise<CommandRun> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, timeoutMs);
}

/** Waits for `child` to end (killing it after `timeoutMs`) and returns its output. */
export function collect(child: ChildProcess, timeoutMs: number): Promise<CommandRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
