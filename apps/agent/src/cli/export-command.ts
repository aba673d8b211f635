import type { Command } from 'commander';
import { addDatabaseOption, addFilterOptions, filtersFrom, openStore } from './options';

export function registerExportCommand(program: Command): void {
  addFilterOptions(
    addDatabaseOption(
      program
        .command('export')
        .description(
          'print stored events as Tetragon JSON lines (process filters select processes; --since/--until bound event times)',
        ),
    ),
  ).action(async (options) => {
    const store = await openStore(options);
    try {
      const { limit: _unused, ...filters } = filtersFrom(options);
      for await (const line of store.exportEvents(filters)) {
        if (!process.stdout.write(`${line}\n`)) {
          await new Promise((resolve) => process.stdout.once('drain', resolve));
        }
      }
    } finally {
      await store.close();
    }
  });
}
