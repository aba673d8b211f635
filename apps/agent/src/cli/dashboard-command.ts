import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parseListen } from '../api/listen-address';
import { tokenFrom } from './serve-command';

/**
 * `proctrail dashboard`: runs the production build of apps/web (`next start`) pointed at an
 * agent's API. It does not import the dashboard's code: Next runs it in a process of its own,
 * told where the API is through PROCTRAIL_API_URL (and PROCTRAIL_TOKEN).
 */

export const DEFAULT_DASHBOARD_LISTEN = '127.0.0.1:3000';
export const DEFAULT_API_URL = 'http://127.0.0.1:7070';

const webDir = fileURLToPath(new URL('../../../web/', import.meta.url));

/** The `next` command-line script that apps/web depends on. */
function nextBin(): string {
  const require = createRequire(`${webDir}package.json`);
  return require.resolve('next/dist/bin/next');
}

/** A free loopback port for `:0`, which `next start` does not resolve itself. */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Builds the dashboard once when no production build exists yet (about 15 s). */
function ensureBuilt(env: NodeJS.ProcessEnv): void {
  if (existsSync(`${webDir}.next/BUILD_ID`)) return;
  console.error('dashboard: no production build yet; running next build (about 15 s)');
  const built = spawnSync(process.execPath, [nextBin(), 'build'], {
    cwd: webDir,
    env,
    stdio: ['ignore', 2, 2],
  });
  if (built.status !== 0) throw new Error(`next build failed with exit code ${built.status}`);
}

/** Polls the dashboard until it answers, so the printed URL is ready to open. */
async function waitUntilServing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const answer = await fetch(url, { redirect: 'manual' });
      await answer.body?.cancel();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`the dashboard did not answer at ${url} within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('serve the web dashboard (production build of apps/web) for an agent API')
    .option('--api <url>', 'the agent API to show', DEFAULT_API_URL)
    .option('--listen <host:port>', 'address to serve the dashboard on', DEFAULT_DASHBOARD_LISTEN)
    .option('--token <token>', 'the API bearer token (default: $PROCTRAIL_TOKEN)')
    .action(async (options: { api: string; listen: string; token?: string }) => {
      const address = parseListen(options.listen);
      const apiUrl = new URL(options.api).toString().replace(/\/$/, '');
      const token = tokenFrom(options.token);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        PROCTRAIL_API_URL: apiUrl,
        ...(token ? { PROCTRAIL_TOKEN: token } : {}),
      };
      ensureBuilt(env);
      const port = address.port === 0 ? await freePort(address.host) : address.port;
      const child = spawn(
        process.execPath,
        [nextBin(), 'start', '--hostname', address.host, '--port', String(port)],
        { cwd: webDir, env, stdio: ['ignore', 2, 2] },
      );
      const exited = new Promise<number>((resolve) => {
        child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
      });
      let stopping = false;
      const stop = () => {
        stopping = true;
        child.kill('SIGTERM');
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);

      const host = address.host.includes(':') ? `[${address.host}]` : address.host;
      const url = `http://${host}:${port}`;
      const ready = await Promise.race([
        waitUntilServing(url, 30_000).then(() => true),
        exited.then(() => false),
      ]);
      if (ready) console.log(`dashboard: ${url} (API ${apiUrl})`);
      const code = await exited;
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      if (!ready) throw new Error(`next start exited with code ${code} before serving`);
      process.exitCode = stopping ? 0 : code;
    });
}
