import type { Command } from 'commander';
import {
  inventorySearchInputSchema,
  type InventoryFile,
  type InventoryLoad,
} from '@proctrail/schema';
import { addDatabaseOption, openStore, timeOption } from './options';
import { terminalSafe } from './terminal-text';

interface InventoryOptions {
  db?: string;
  store?: string;
  binary?: string;
  library?: string;
  sha256?: string;
  node?: string;
  since?: string;
  until?: string;
  running?: boolean;
  vulnerable?: boolean;
  limit: number;
  json?: boolean;
}

function shortHash(sha256: string | undefined, error: string | undefined): string {
  if (sha256) return `sha256:${sha256.slice(0, 16)}`;
  return error ? `(no hash: ${terminalSafe(error)})` : '(no hash)';
}

function versionText(item: { name?: string; version?: string }): string {
  const text = [item.name, item.version].filter(Boolean).join(' ');
  return text ? ` ${terminalSafe(text)}` : '';
}

function describeFileLine(file: InventoryFile): string {
  const flag = file.advisories.length ? `  VULNERABLE ${file.advisories.join(' ')}` : '';
  const last = file.lastLoadedAt ? `, last ${file.lastLoadedAt}` : '';
  return (
    `${file.role === 'executable' ? 'exe' : 'lib'} ${terminalSafe(file.path)}${versionText(file)} ` +
    `${shortHash(file.sha256, undefined)}: ${file.processes} process${file.processes === 1 ? '' : 'es'}, ` +
    `${file.runningProcesses} running${last}${flag}`
  );
}

function describeLoadLine(load: InventoryLoad): string {
  const who = `${terminalSafe(load.binary ?? '?')} pid ${load.pid ?? '?'}`;
  const state = load.running ? 'running' : 'exited';
  return (
    `${load.time ?? '?'} ${terminalSafe(load.nodeName ?? '')} ${who} (${state}) ` +
    `${load.role === 'executable' ? 'ran' : 'loaded'} ${terminalSafe(load.path)}${versionText(load)} ` +
    `${shortHash(load.sha256, load.error)}${load.buildId ? ` build-id ${load.buildId}` : ''}` +
    `${load.advisories.length ? `  VULNERABLE ${load.advisories.join(' ')}` : ''}\n` +
    `    exec_id ${terminalSafe(load.execId)}`
  );
}

export function registerInventoryCommand(program: Command): void {
  addDatabaseOption(
    program
      .command('inventory')
      .description(
        'which processes ran which binaries and loaded which libraries, with hashes and versions',
      )
      .option('--binary <glob>', 'executables whose path (or, without "/", name) matches')
      .option('--library <glob>', 'libraries whose path, file name or library name matches')
      .option('--sha256 <hash>', 'files with this SHA-256')
      .option('--node <name>', 'only this node')
      .option('--since <time>', 'loaded from this time (RFC 3339)', timeOption)
      .option('--until <time>', 'loaded up to this time', timeOption)
      .option('--running', 'only processes that have not exited')
      .option('--vulnerable', 'only libraries a vulnerable-version rule matched')
      .option('--limit <n>', 'how many loads at most, newest first', (v) => Number(v), 200)
      .option('--json', 'print {loads, files} as JSON'),
  ).action(async (options: InventoryOptions) => {
    const parsed = inventorySearchInputSchema.safeParse({
      binary: options.binary,
      library: options.library,
      sha256: options.sha256,
      node: options.node,
      since: options.since,
      until: options.until,
      running: options.running,
      vulnerable: options.vulnerable,
      limit: options.limit,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      console.error(`proctrail inventory: --${issue.path.join('.')}: ${issue.message}`);
      process.exitCode = 2;
      return;
    }
    const store = await openStore(options);
    try {
      if (!store.inventory) throw new Error('this store keeps no software inventory');
      const result = await store.inventory(parsed.data);
      if (options.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      for (const file of result.files) console.log(describeFileLine(file));
      if (result.files.length && result.loads.length) console.log('');
      for (const load of result.loads) console.log(describeLoadLine(load));
      console.error(
        `${result.loads.length} load${result.loads.length === 1 ? '' : 's'} of ${result.files.length} file${result.files.length === 1 ? '' : 's'}`,
      );
    } finally {
      await store.close();
    }
  });
}
