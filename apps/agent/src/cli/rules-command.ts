import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { formatProblem, loadRuleFile, loadRulesDir } from '../detection/load-rules';
import { terminalSafe } from './terminal-text';

/** Exit codes of `rules check`: every rule valid; some rule rejected. */
const EXIT_VALID = 0;
const EXIT_INVALID = 1;

export function registerRulesCommand(program: Command): void {
  const rules = program.command('rules').description('detection rules');
  rules
    .command('check')
    .description('validate rule files; report each problem with its line and field')
    .argument(
      '<paths...>',
      'rule files (YAML), or folders checked the way --rules loads them (names unique across files)',
    )
    .action((files: string[]) => {
      process.exitCode = checkRuleFiles(files);
    });
}

function checkRuleFiles(files: string[]): number {
  let invalid = false;
  for (const file of files) {
    const loaded = isDirectory(file) ? loadRulesDir(file) : loadRuleFile(file);
    for (const problem of loaded.problems) console.error(terminalSafe(formatProblem(problem)));
    const names = loaded.rules.map((r) => r.name).join(', ');
    const rejected = loaded.problems.length ? `, ${loaded.problems.length} problems` : '';
    console.log(
      `${terminalSafe(file)}: ${loaded.rules.length} valid rules${names ? ` (${names})` : ''}${rejected}`,
    );
    if (loaded.problems.length) invalid = true;
  }
  return invalid ? EXIT_INVALID : EXIT_VALID;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // loadRuleFile reports what is wrong with the path
  }
}
