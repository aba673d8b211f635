/**
 * The victim of the Log4Shell scenario: java/LookupService.java, compiled with Debian's JDK
 * into apps/agent/build/log4shell/ (by the set-up script, or here on first use) and run as a
 * plain `java` process listening on loopback.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const sourceFile = fileURLToPath(new URL('./java/LookupService.java', import.meta.url));
export const serviceClassDir = fileURLToPath(new URL('../../../build/log4shell/', import.meta.url));
const classFile = `${serviceClassDir}LookupService.class`;

/** Compiles the service unless its class file is newer than its source. */
export function buildJavaService(): void {
  if (existsSync(classFile) && statSync(classFile).mtimeMs >= statSync(sourceFile).mtimeMs) {
    return;
  }
  mkdirSync(serviceClassDir, { recursive: true });
  try {
    execFileSync('javac', ['-d', serviceClassDir, sourceFile], { stdio: 'pipe' });
  } catch (error) {
    const { stderr, code } = error as { stderr?: Buffer; code?: string };
    if (code === 'ENOENT') {
      throw new Error('javac not found: install openjdk-17-jdk-headless (scripts/setup.sh does)', {
        cause: error,
      });
    }
    throw new Error(`javac ${sourceFile} failed:\n${stderr?.toString() ?? String(error)}`, {
      cause: error,
    });
  }
}

/**
 * JDKs up to 11, which most services ran when Log4Shell broke, started child processes with
 * vfork: the payload is then a direct child of java. JDK 17 would go through jspawnhelper
 * (java -> jspawnhelper replaced by bash in the same pid), which the tree also shows.
 */
const JAVA_OPTIONS = ['-Djdk.lang.Process.launchMechanism=VFORK'];

export interface JavaService {
  child: ChildProcess;
  pid: number;
  /** Resolves with the port once the service accepts requests. */
  listening: Promise<number>;
  /** What the service logged, one line an entry. */
  readonly log: string[];
}

/**
 * Starts the service in a process group of its own, so that it and whatever it starts can be
 * stopped together. Returns at once, so the caller can arrange the stop before waiting.
 */
export function spawnJavaService(environment: NodeJS.ProcessEnv): JavaService {
  buildJavaService();
  const child = spawn('java', [...JAVA_OPTIONS, '-cp', serviceClassDir, 'LookupService', '0'], {
    detached: true,
    cwd: tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: environment,
  });
  if (child.pid === undefined) {
    child.on('error', () => {}); // reported by the throw below
    throw new Error('could not start java: is a JDK installed? (scripts/setup.sh installs one)');
  }
  const log: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.push(line);
      const port = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line)?.[1];
      if (port !== undefined) resolve(Number(port));
    });
    child.once('error', (error) => reject(new Error(`could not start java: ${error.message}`)));
    child.once('exit', (code, signal) =>
      reject(new Error(`the Java service exited (${signal ?? code}) before listening`)),
    );
  });
  // The caller may give up waiting (interrupted); the rejection must not go unhandled.
  listening.catch(() => {});
  return { child, pid: child.pid, listening, log };
}
