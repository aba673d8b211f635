/**
 * The attacker's side of the Log4Shell scenario, on loopback only: a stand-in for the LDAP
 * directory that answers the victim's lookup with a payload, and the listener that receives
 * the reverse shell and types the first commands an intruder runs.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

function tracked(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

export interface DirectoryStandIn extends Listening {
  /** The names asked for, in order: one per lookup the victim made. */
  readonly searches: string[];
  /** Resolves with the first name asked for. */
  readonly firstSearch: Promise<string>;
}

/**
 * Answers every `search NAME` line with the factory name and the command to run, the way a
 * malicious LDAP server answers a JNDI lookup with a reference to a remote class.
 */
export async function startDirectoryStandIn(payloadCommand: string): Promise<DirectoryStandIn> {
  const searches: string[] = [];
  let reportFirst: (name: string) => void = () => {};
  const firstSearch = new Promise<string>((resolve) => (reportFirst = resolve));
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => {
      received += chunk;
      const newline = received.indexOf('\n');
      if (newline < 0) return;
      const name = /^search (.*)$/.exec(received.slice(0, newline))?.[1] ?? '';
      searches.push(name);
      reportFirst(name);
      socket.end(`factory: Exploit\ncommand: ${payloadCommand}\n\n`);
    });
    socket.on('error', () => socket.destroy());
  });
  const sockets = tracked(server);
  const port = await listenOnLoopback(server);
  return { port, searches, firstSearch, close: closer(server, sockets) };
}

export interface ShellSession {
  /** Everything the shell sent back: prompts, command output, and errors. */
  transcript: string;
  /** True when the shell closed the connection itself after `exit`. */
  closedByShell: boolean;
}

export interface ShellListener extends Listening {
  /** Resolves once a shell has connected. */
  readonly connected: Promise<void>;
  /** Resolves when the session is over: the shell closed, or the time ran out. */
  readonly session: Promise<ShellSession>;
}

/**
 * Waits for one reverse shell, then types `commands` one at a time, `pauseMs` apart, the way
 * an intruder explores a shell they just got. The session ends when the shell closes the
 * connection or after `timeoutMs`.
 */
export async function startShellListener(
  commands: readonly string[],
  { pauseMs = 400, timeoutMs = 15_000 } = {},
): Promise<ShellListener> {
  let reportConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => (reportConnected = resolve));
  let reportSession: (session: ShellSession) => void = () => {};
  const session = new Promise<ShellSession>((resolve) => (reportSession = resolve));
  let taken = false;
  const server = createServer((socket) => {
    if (taken) {
      socket.destroy();
      return;
    }
    taken = true;
    reportConnected();
    let transcript = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (transcript += chunk));
    socket.on('error', () => socket.destroy());
    const timers: NodeJS.Timeout[] = [];
    commands.forEach((command, index) => {
      timers.push(setTimeout(() => socket.write(`${command}\n`), pauseMs * (index + 1)));
    });
    const deadline = setTimeout(() => {
      socket.destroy();
      reportSession({ transcript, closedByShell: false });
    }, timeoutMs);
    socket.once('close', () => {
      timers.forEach(clearTimeout);
      clearTimeout(deadline);
      reportSession({ transcript, closedByShell: true });
    });
  });
  const sockets = tracked(server);
  const port = await listenOnLoopback(server);
  return { port, connected, session, close: closer(server, sockets) };
}
