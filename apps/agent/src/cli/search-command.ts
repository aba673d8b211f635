import type { Command } from 'commander';
import { containerIdOf, type ProcessNode } from '@proctrail/schema';
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
        const container = containerLine(node);
        if (container) console.log(`    ${container}`);
        for (const edge of node.network) console.log(`    net  ${describeNetwork(edge)}`);
        for (const edge of node.files) console.log(`    file ${describeFile(edge)}`);
      }
      console.error(`${found.length} process${found.length === 1 ? '' : 'es'}`);
    } finally {
      await store.close();
    }
  });
}

/**
 * "container 551e161c47d8 nginx (workload Deployment/web), entered from outside": which
 * container, and whether the process came from its init or was put in it (kubectl exec).
 */
function containerLine(node: ProcessNode): string | undefined {
  const id = containerIdOf(node);
  if (!id) return undefined;
  const parts = [`container ${terminalSafe(id.slice(0, 12))}`];
  if (node.pod?.container?.name) parts.push(terminalSafe(node.pod.container.name));
  if (node.pod?.workload) {
    const kind = node.pod.workload_kind ? `${terminalSafe(node.pod.workload_kind)}/` : '';
    parts.push(`(workload ${kind}${terminalSafe(node.pod.workload)})`);
  }
  const origin =
    node.in_init_tree === false
      ? ', entered from outside'
      : node.in_init_tree
        ? ', in its init tree'
        : '';
  return `${parts.join(' ')}${origin}`;
}
