/**
 * What the dashboard's end-to-end tests share: a real `proctrail agent` on a temporary
 * database, `proctrail dashboard` pointed at it, and Debian's Chromium driven by
 * playwright-core. Everything listens on ephemeral loopback ports.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const artifactsDir = fileURLToPath(new URL('./artifacts/', import.meta.url));
export const cliPath = fileURLToPath(new URL('../apps/agent/bin/proctrail.js', import.meta.url));

export interface Running {
  child: ChildProcess;
  url: string;
}

/** Resolves with what `pick` finds in a line of `stream`; rejects on timeout or exit. */
function waitForLine(
  child: ChildProcess,
  stream: NodeJS.ReadableStream,
  pick: (line: string) => string | undefined,
  what: string,
  timeoutMs: number,
): Promise<string> {
  const lines = createInterface({ input: stream });
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    lines.on('line', (line) => {
      const found = pick(line);
      if (found === undefined) return;
      clearTimeout(timer);
      resolve(found);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before starting`));
    });
  });
}

/**
 * Runs a `proctrail` command that serves the API, and resolves with its URL once its log
 * says `readyMessage` (logs are JSON lines on standard error).
 */
async function startApiCommand(
  args: string[],
  readyMessage: string,
  what: string,
): Promise<Running> {
  const child = spawn(process.execPath, [cliPath, ...args, '--listen', '127.0.0.1:0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PROCTRAIL_LOG_LEVEL: 'info' },
  });
  const url = await waitForLine(
    child,
    child.stderr!,
    (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      return entry.msg === readyMessage ? entry.url : undefined;
    },
    what,
    30_000,
  );
  return { child, url };
}

/** `proctrail agent` on `db`; resolves with its API URL from the 'recording' log line. */
export function startAgent(db: string, extraArgs: string[] = []): Promise<Running> {
  return startApiCommand(
    ['agent', '--db', db, '--node-name', 'e2e', ...extraArgs],
    'recording',
    'the agent',
  );
}

/** `proctrail serve` on an existing database (no sensor: for benchmarks on imported data). */
export function startServe(db: string): Promise<Running> {
  return startApiCommand(['serve', '--db', db], 'serving', 'proctrail serve');
}

/** `proctrail dashboard` for `apiUrl` (building the dashboard first when no build exists). */
export async function startDashboard(apiUrl: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    [cliPath, 'dashboard', '--api', apiUrl, '--listen', '127.0.0.1:0'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await waitForLine(
    child,
    child.stdout!,
    (line) => /^dashboard: (\S+)/.exec(line)?.[1],
    'the dashboard',
    180_000,
  );
  return { child, url };
}

/** Debian's Chromium, headless; Playwright cannot download a browser here. */
export function launchBrowser(): Promise<Browser> {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
  mkdirSync(artifactsDir, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Tests browse 127.0.0.1 only: no name is looked up, so no DNS query leaves the host.
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
}

/** Stops a child with SIGTERM and waits for it. */
export async function stop(running: Running | undefined): Promise<void> {
  if (!running || running.child.exitCode !== null) return;
  const exited = new Promise((resolve) => running.child.once('exit', resolve));
  running.child.kill('SIGTERM');
  await exited;
}

/**
 * A capture imported into a fresh database and shown in Chromium through `proctrail serve` and
 * the dashboard. Each part is kept as soon as it runs, so stop() ends what started even when a
 * later part failed to start.
 */
export class ImportedDashboard {
  serve: Running | undefined;
  dashboard: Running | undefined;
  browser: Browser | undefined;

  /** Imports `capture` into `db` (a failed import fails the caller with its stderr), then starts. */
  async start(capture: string, db: string): Promise<void> {
    const imported = spawnSync(process.execPath, [cliPath, 'import', '--db', db, capture], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    assert.equal(imported.status, 0, imported.stderr);
    this.serve = await startServe(db);
    this.dashboard = await startDashboard(this.serve.url);
    this.browser = await launchBrowser();
  }

  /** Closes the browser, then stops the dashboard and the server. */
  async stop(): Promise<void> {
    await this.browser?.close();
    await stop(this.dashboard);
    await stop(this.serve);
  }
}
