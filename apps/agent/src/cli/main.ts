import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './agent-command';
import { registerDashboardCommand } from './dashboard-command';
import { registerDemoCommand } from './demo-command';
import { registerExportCommand } from './export-command';
import { registerImportCommand } from './import-command';
import { registerInventoryCommand } from './inventory-command';
import { registerPolicyCommand } from './policy-command';
import { registerRulesCommand } from './rules-command';
import { registerSearchCommand } from './search-command';
import { registerServeCommand } from './serve-command';
import { registerTailCommand } from './tail-command';
import { registerTreeCommand } from './tree-command';

export function buildProgram(): Command {
  const program = new Command('proctrail')
    .description('Process-tree forensics for Linux: what ran, who started it, what it touched')
    .showHelpAfterError('(add --help for the options)')
    .exitOverride();
  registerAgentCommand(program);
  registerImportCommand(program);
  registerTreeCommand(program);
  registerSearchCommand(program);
  registerInventoryCommand(program);
  registerExportCommand(program);
  registerServeCommand(program);
  registerTailCommand(program);
  registerDashboardCommand(program);
  registerRulesCommand(program);
  registerPolicyCommand(program);
  registerDemoCommand(program);
  return program;
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    console.error(`proctrail: ${(error as Error).message}`);
    return 1;
  }
}
