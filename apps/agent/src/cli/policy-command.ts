import type { Command } from 'commander';
import { loadPolicySet } from '../policy/compile';
import { formatPolicyProblem } from '../policy/load-policies';
import { terminalSafe } from './terminal-text';

/** Exit codes of `policy check`: every policy valid; some policy rejected. */
const EXIT_VALID = 0;
const EXIT_INVALID = 1;

export function registerPolicyCommand(program: Command): void {
  const policy = program.command('policy').description('prevention policies (kill, deny)');
  policy
    .command('check')
    .description(
      'validate policy files the way `agent --policy` loads them; report each problem as ' +
        'FILE:LINE: FIELD: problem',
    )
    .argument('<paths...>', 'policy files (YAML), or folders of them (names unique across all)')
    .action((paths: string[]) => {
      process.exitCode = checkPolicyFiles(paths);
    });
}

function checkPolicyFiles(paths: string[]): number {
  // cgroups are checked where the agent runs, when it loads them: not resolved here.
  const compiled = loadPolicySet(paths, {});
  for (const problem of compiled.problems)
    console.error(terminalSafe(formatPolicyProblem(problem)));
  for (const summary of compiled.summaries) {
    const where = `${summary.file}:${summary.line}`;
    console.log(
      terminalSafe(
        `${where}: ${summary.name}: ${summary.on} ${summary.action} (${summary.mode}): ` +
          summary.selects,
      ),
    );
  }
  const rejected = compiled.problems.length ? `, ${compiled.problems.length} problems` : '';
  console.log(`${compiled.summaries.length} valid policies${rejected}`);
  return compiled.problems.length ? EXIT_INVALID : EXIT_VALID;
}
