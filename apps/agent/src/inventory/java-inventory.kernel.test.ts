/**
 * The Log4Shell questions on a real JVM: a Java process whose class path holds a jar named and
 * versioned like a vulnerable log4j-core (built here with Debian's JDK: a manifest and one
 * trivial class, no log4j code). Asked of a real `proctrail agent` through the CLI and the API.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { kernelSkipReason } from '@proctrail/bpf/testing';
import type { InventorySearchResult } from '@proctrail/schema';
import { createApiClient } from '../api/client';
import { runCliProcess, startAgentProcess } from '../testing/agent-process';

function javaSkipReason(): string | false {
  try {
    execFileSync('javac', ['-version'], { stdio: 'ignore' });
    execFileSync('jar', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'javac and jar are missing (openjdk-17-jdk-headless)';
  }
}

const skip = kernelSkipReason() || javaSkipReason();
const dir = mkdtempSync(join(tmpdir(), 'proctrail-java-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** log4j-core-2.14.1.jar with a manifest saying so and one class; App on its own. */
function buildJavaProgram(): { jar: string; appDir: string } {
  const libSources = join(dir, 'lib-src');
  const libClasses = join(dir, 'lib-classes');
  const appDir = join(dir, 'app');
  for (const d of [libSources, libClasses, appDir]) mkdirSync(d, { recursive: true });
  writeFileSync(
    join(libSources, 'Greeting.java'),
    'public class Greeting { public static String hello() { return "ready"; } }\n',
  );
  writeFileSync(
    join(appDir, 'App.java'),
    [
      'public class App {',
      '  public static void main(String[] args) throws Exception {',
      '    System.out.println(Greeting.hello());',
      '    System.out.flush();',
      '    while (System.in.read() >= 0) {}',
      '  }',
      '}',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'manifest.txt'),
    'Implementation-Title: Apache Log4j Core\nImplementation-Version: 2.14.1\n',
  );
  execFileSync('javac', ['-d', libClasses, join(libSources, 'Greeting.java')]);
  const jar = join(dir, 'log4j-core-2.14.1.jar');
  execFileSync('jar', ['cfm', jar, join(dir, 'manifest.txt'), '-C', libClasses, '.']);
  execFileSync('javac', ['-cp', jar, '-d', appDir, join(appDir, 'App.java')]);
  return { jar, appDir };
}

/** Asks `done` every 250 ms until it says yes; rejects naming `what` after `timeoutMs`. */
async function poll(done: () => Promise<boolean>, what: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function inventoryCli(db: string, extra: string[]): Promise<InventorySearchResult> {
  const run = await runCliProcess(
    ['inventory', '--db', db, '--library', 'log4j-core*', '--json', ...extra],
    60_000,
  );
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as InventorySearchResult;
}

test(
  'a JVM loading log4j-core 2.14.1: the load is recorded with its hash and version, the rule fires, and --running lists it until it exits',
  { skip, timeout: 240_000 },
  async () => {
    const { jar, appDir } = buildJavaProgram();
    const jarHash = createHash('sha256').update(readFileSync(jar)).digest('hex');
    const db = join(dir, 'java.db');
    const agent = await startAgentProcess(db);
    const api = createApiClient({ url: agent.url });
    const java = spawn('java', ['-Xshare:auto', '-cp', `${jar}:${appDir}`, 'App'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const ready = await new Promise<string>((resolve, reject) => {
        createInterface({ input: java.stdout! }).once('line', resolve);
        java.once('exit', (code) => reject(new Error(`java exited early with ${code}`)));
      });
      assert.equal(ready, 'ready', 'the class in the jar was loaded');

      let running: InventorySearchResult | undefined;
      await poll(
        async () => {
          running = await inventoryCli(db, ['--running']);
          return running.loads.some((l) => l.pid === java.pid);
        },
        'the running JVM in proctrail inventory --running',
        60_000,
      );
      const load = running!.loads.find((l) => l.pid === java.pid)!;
      assert.equal(load.path, jar);
      assert.equal(load.sha256, jarHash, JSON.stringify(load));
      assert.equal(load.name, 'log4j-core');
      assert.equal(load.version, '2.14.1');
      assert.ok(load.advisories.includes('CVE-2021-44228'), JSON.stringify(load.advisories));
      assert.equal(load.running, true);
      assert.match(load.binary ?? '', /java$/);

      const viaApi = await api.trpc.inventory.search.query({
        library: 'log4j-core*',
        vulnerable: true,
      });
      const file = viaApi.files.find((f) => f.path === jar)!;
      // The sensor watches the whole host: another process that opens this jar (a scan of
      // /tmp by a neighbour) counts too, so the count is checked against the loads listed.
      const runningHere = viaApi.loads.filter((l) => l.running).length;
      assert.ok(runningHere >= 1);
      assert.equal(file.runningProcesses, runningHere, JSON.stringify(viaApi.loads));
      assert.ok(file.lastLoadedAt);

      await poll(
        async () => {
          const found = await api.trpc.detection.list.query({ rule: 'log4j-core-before-2.17.1' });
          return found.some((d) => d.pid === java.pid && d.severity === 'critical');
        },
        'the vulnerable-version detection',
        30_000,
      );

      java.stdin!.end();
      await new Promise((resolve) => java.once('exit', resolve));
      await poll(
        async () => !(await inventoryCli(db, ['--running'])).loads.some((l) => l.pid === java.pid),
        'the JVM gone from --running after its exit',
        60_000,
      );
      const past = await inventoryCli(db, []);
      const exited = past.loads.find((l) => l.pid === java.pid);
      assert.ok(exited, 'the exited JVM is still in the inventory without --running');
      assert.equal(exited.running, false);
      const gone = past.files.find((f) => f.path === jar)!;
      // Another agent on this host (a test running beside this one) hashing the jar opens it
      // too, and counts as holding it while it runs: the JVM is what must be gone.
      const othersHolding = past.loads.filter((l) => l.running && l.pid !== java.pid);
      assert.ok(
        othersHolding.every((l) => l.binary !== load.binary),
        `is it gone? no JVM holds it now: ${JSON.stringify(othersHolding)}`,
      );
      assert.equal(gone.runningProcesses, othersHolding.length);
      assert.ok(gone.lastLoadedAt, 'and the last time it was loaded');
    } finally {
      java.kill('SIGKILL');
      await api.close();
      agent.child.kill('SIGTERM');
      await new Promise((resolve) => agent.child.once('exit', resolve));
    }
  },
);
