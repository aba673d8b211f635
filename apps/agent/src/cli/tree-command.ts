import type { Command } from 'commander';
import type { ProcessNode, ProcessTree, ProcessTreeNode } from '@proctrail/schema';
import type { SourceInfo, Store } from '../store/types';
import { describeFile, describeNetwork, describeProcess } from './describe';
import { addDatabaseOption, openStore } from './options';

export function registerTreeCommand(program: Command): void {
  addDatabaseOption(
    program
      .command('tree')
      .description(
        'the ancestry of a process from its root, then its descendants, with network and files',
      )
      .argument('<exec_id>', 'the exec_id of the process')
      .option('--json', 'print JSON: { process, ancestors (root first), children }')
      .option('--source <name>', 'the import or agent to look in, when the exec_id is in several')
      .option('--depth <n>', 'levels of descendants to show', (v) => Number(v), 64)
      .option('--max <n>', 'descendants to show at most', (v) => Number(v), 1000),
  ).action(async (execId: string, options) => {
    process.exitCode = await runTree(execId, options);
  });
}

async function runTree(
  execId: string,
  options: {
    db?: string;
    store?: string;
    json?: boolean;
    source?: string;
    depth: number;
    max: number;
  },
): Promise<number> {
  const store = await openStore(options);
  try {
    const source = await pickSource(store, execId, options.source);
    if (!source) return 1;
    const tree = await store.tree(source, execId, {
      maxDepth: options.depth,
      maxDescendants: options.max,
    });
    if (!tree) {
      console.error(`proctrail tree: no process with exec_id ${execId} in source ${source.name}`);
      return 1;
    }
    console.log(options.json ? JSON.stringify(tree, null, 2) : renderTree(tree));
    return 0;
  } finally {
    await store.close();
  }
}

async function pickSource(
  store: Store,
  execId: string,
  wanted: string | undefined,
): Promise<SourceInfo | undefined> {
  const sources = await store.sourcesOf(execId);
  if (wanted) {
    const found = sources.find((s) => s.name === wanted);
    if (!found) console.error(`proctrail tree: exec_id ${execId} is not in source ${wanted}`);
    return found;
  }
  if (sources.length === 0) {
    console.error(`proctrail tree: no process with exec_id ${execId}`);
    return undefined;
  }
  if (sources.length > 1) {
    const names = sources.map((s) => s.name).join(', ');
    console.error(
      `proctrail tree: exec_id ${execId} is in several sources (${names}); pick one with --source`,
    );
    return undefined;
  }
  return sources[0];
}

/** The tree as indented text: ancestors down to the process (marked), then its descendants. */
export function renderTree(tree: ProcessTree): string {
  const lines: string[] = [];
  if (tree.ancestryTruncated) lines.push('... (ancestry cut: too deep or looping)');
  const chain = [...tree.ancestors, tree.process];
  chain.forEach((node, depth) => {
    const mark = node === tree.process ? '  <== this process' : '';
    const indent = '   '.repeat(depth);
    lines.push(`${indent}${depth ? '└─ ' : ''}${describeProcess(node)}${mark}`);
    pushEdges(lines, node, `${indent}${depth ? '   ' : ''}   `);
  });
  const base = '   '.repeat(chain.length);
  tree.children.forEach((child, i) =>
    renderChild(lines, child, base, i === tree.children.length - 1),
  );
  const omittedHere = tree.omittedDescendants;
  if (omittedHere > 0)
    lines.push(`${base}(${omittedHere} more descendants not shown: raise --depth or --max)`);
  return lines.join('\n');
}

function renderChild(lines: string[], node: ProcessTreeNode, indent: string, last: boolean): void {
  lines.push(`${indent}${last ? '└─ ' : '├─ '}${describeProcess(node)}`);
  const inner = `${indent}${last ? '   ' : '│  '}`;
  pushEdges(lines, node, `${inner}   `);
  node.children.forEach((child, i) =>
    renderChild(lines, child, inner, i === node.children.length - 1),
  );
  if (node.omittedChildren > 0) lines.push(`${inner}   ... ${node.omittedChildren} more children`);
}

function pushEdges(lines: string[], node: ProcessNode, indent: string): void {
  for (const edge of node.network) lines.push(`${indent}net  ${describeNetwork(edge)}`);
  for (const edge of node.files) lines.push(`${indent}file ${describeFile(edge)}`);
}
