import { Command, CommanderError } from 'commander';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded when that command runs: a command pulls in only what it uses
 * (an import needs neither the sensor's binding nor the API server): about 10 MB less
 * resident memory for every command but the agent. In the order `--help` lists them.
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['agent', async () => (await import('./agent-command')).registerAgentCommand],
  ['import', async () => (await import('./import-command')).registerImportCommand],
  ['tree', async () => (await import('./tree-command')).registerTreeCommand],
  ['search', async () => (await import('./search-command')).registerSearchCommand],
  ['inventory', async () => (await import('./inventory-command')).registerInventoryCommand],
  ['export', async () => (await import('./export-command')).registerExportCommand],
  ['serve', async () => (await import('./serve-command')).registerServeCommand],
  ['tail', async () => (await import('./tail-command')).registerTailCommand],
  ['dashboard', async () => (await import('./dashboard-command')).registerDashboardCommand],
  ['rules', async () => (await import('./rules-command')).registerRulesCommand],
  ['policy', async () => (await import('./policy-command')).registerPolicyCommand],
  ['demo', async () => (await import('./demo-command')).registerDemoCommand],
];

/**
 * The CLI with the command `argv` names, or with every command when it names none it knows
 * (help, a typo: commander then lists them all or suggests the nearest).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('proctrail')
    .description('Process-tree forensics for Linux: what ran, who started it, what it touched')
    .showHelpAfterError('(add --help for the options)')
    .exitOverride();
  const named = COMMANDS.filter(([name]) => name === argv[0]);
  for (const [, load] of named.length > 0 ? named : COMMANDS) (await load())(program);
  return program;
}

/** Runs the CLI with `argv` (without node and the script) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await (await buildProgram(argv)).parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    console.error(`proctrail: ${(error as Error).message}`);
    return 1;
  }
}
