/**
 * A throwaway PostgreSQL for tests: initdb into a temporary directory, a server on a free
 * loopback port (its unix socket in that directory too), one database created, and everything
 * stopped and removed by stop(). Uses Debian's postgresql 15 binaries, which scripts/setup.sh
 * installs. initdb and postgres refuse to run as root, so as root they run as the `postgres`
 * OS user through runuser.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POSTGRES_BIN = process.env.PROCTRAIL_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  /** postgres://user@127.0.0.1:port/database, ready for pg or --store. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** The temporary directory holding the cluster, its socket and its log. */
  readonly dir: string;
  /** Stops the server (fast mode) without removing its files; start() brings it back. */
  stopServer(): void;
  startServer(): void;
  /** Stops the server and removes the directory; safe to call twice. */
  stop(): void;
}

export interface StartPostgresOptions {
  database?: string;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runPostgresBinary(binary: string, args: string[]): void {
  const path = join(POSTGRES_BIN, binary);
  const asRoot = process.getuid?.() === 0;
  const [command, commandArgs] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', path, ...args]]
    : [path, args];
  try {
    execFileSync(command, commandArgs, { stdio: 'pipe', timeout: 60_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`${binary} ${args.join(' ')} failed: ${stderr || (error as Error).message}`, {
      cause: error,
    });
  }
}

/** Starts a fresh PostgreSQL cluster; call stop() when done (e.g. in after()). */
export async function startTestPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const database = options.database ?? 'proctrail';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) {
    throw new Error(`test database name must be a plain identifier: ${JSON.stringify(database)}`);
  }
  const user = 'postgres';
  const host = '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'proctrail-pg-'));
  // The postgres OS user must reach the socket directory and create the data directory.
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freeLoopbackPort();
  let running = false;
  let removed = false;

  const startServer = () => {
    runPostgresBinary('pg_ctl', [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-c listen_addresses=${host} -p ${port} -k ${dir} -c fsync=off`,
      'start',
    ]);
    running = true;
  };
  const stopServer = () => {
    if (!running) return;
    running = false;
    runPostgresBinary('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']);
  };

  try {
    runPostgresBinary('initdb', ['-D', data, '-U', user, '--auth=trust', '-E', 'UTF8']);
    startServer();
    // The database name was checked above to be a plain identifier.
    runPostgresBinary('psql', [
      '-h',
      host,
      '-p',
      String(port),
      '-U',
      user,
      '-d',
      'postgres',
      '-v',
      'ON_ERROR_STOP=1',
      '-c',
      `CREATE DATABASE ${database}`,
    ]);
  } catch (error) {
    try {
      stopServer();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    throw error;
  }

  return {
    url: `postgres://${user}@${host}:${port}/${database}`,
    host,
    port,
    user,
    database,
    dir,
    stopServer,
    startServer,
    stop() {
      if (removed) return;
      try {
        stopServer();
      } finally {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
