import type { Command } from 'commander';
import { describeFile, describeNetwork, describeProcess } from './describe';
import { addDatabaseOption, addFilterOptions, filtersFrom, openStore } from './options';
import { terminalSafe } from './terminal-text';

export function registerSearchCommand(program: Command): void {
  addFilterOptions(
    addDatabaseOption(
      program
        .command('search')
        .description(
          'find processes by binary, arguments, pid, node, pod, address, port, path or time',
        )
        .option('--limit <n>', 'how many processes at most, newest first', (v) => Number(v), 100)
        .option('--json', 'print a JSON array of processes'),
    ),
  ).action(async (options) => {
    const store = await openStore(options);
    try {
      const found = await store.search(filtersFrom(options, options.limit));
      if (options.json) {
        console.log(JSON.stringify(found, null, 2));
        return;
      }
      for (const node of found) {
        const where = node.pod?.name
          ? `${terminalSafe(node.pod.namespace ?? '')}/${terminalSafe(node.pod.name)}`
          : terminalSafe(node.node_name ?? '');
        console.log(`${where} ${describeProcess(node)}`);
        console.log(
          `    exec_id ${terminalSafe(node.exec_id)}  source ${terminalSafe(node.source)}`,
        );
        for (const edge of node.network) console.log(`    net  ${describeNetwork(edge)}`);
        for (const edge of node.files) console.log(`    file ${describeFile(edge)}`);
      }
      console.error(`${found.length} process${found.length === 1 ? '' : 'es'}`);
    } finally {
      await store.close();
    }
  });
}
