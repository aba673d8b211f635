import { fstatSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { EVENT_KINDS, eventFiltersSchema, type EventKind } from '@proctrail/schema';
import { DEFAULT_LISTEN } from '../api/listen-address';
import { tokenFrom } from './serve-command';
import { addFilterOptions, filtersFrom } from './options';
import { followLive } from './tail-live';
import type { TailFormat } from './tail-output';
import { interruptOnSignals } from './interrupt';
import { tailStdin } from './tail-stdin';

function formatOption(value: string): TailFormat {
  if (value === 'compact' || value === 'json') return value;
  throw new InvalidArgumentError('expected compact or json');
}

function kindsOption(value: string): EventKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !EVENT_KINDS.includes(k as EventKind));
  if (unknown.length) {
    throw new InvalidArgumentError(
      `unknown kind ${unknown.join(', ')}; known: ${EVENT_KINDS.join(', ')}`,
    );
  }
  return kinds as EventKind[];
}

function countOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number >= 1');
  return n;
}

export function registerTailCommand(program: Command): void {
  addFilterOptions(
    program
      .command('tail')
      .description(
        'follow events as they are stored (from --api), or print Tetragon JSON lines read from standard input',
      )
      .option(
        '--api <url>',
        `the agent's API (default: http://${DEFAULT_LISTEN} unless standard input is a pipe)`,
      )
      .option(
        '-o, --output <format>',
        'compact (one line per event) or json (Tetragon JSON lines)',
        formatOption,
        'compact',
      )
      .option(
        '--kind <kinds>',
        'only these event kinds, comma-separated (process_exec,process_exit,...)',
        kindsOption,
      )
      .option('--max-events <n>', 'stop after printing this many events', countOption)
      .option('--token <token>', 'bearer token for the API (default: $PROCTRAIL_TOKEN)'),
  ).action(async (options) => {
    const { limit: _limit, ...processFilters } = filtersFrom(options);
    const filters = eventFiltersSchema.parse({ ...processFilters, kinds: options.kind });
    if (!options.api && stdinIsData()) {
      if (filters.source)
        throw new InvalidArgumentError('--source does not apply to standard input');
      await tailStdin(filters, options.output, options.maxEvents);
      return;
    }
    const interrupt = interruptOnSignals();
    try {
      await followLive({
        api: options.api ?? `http://${DEFAULT_LISTEN}`,
        token: tokenFrom(options.token),
        filters,
        format: options.output,
        maxEvents: options.maxEvents,
        signal: interrupt.signal,
      });
    } finally {
      interrupt.release();
    }
  });
}

/**
 * Whether standard input brings events: a pipe, a socket (what Node and libuv give a child as
 * its pipe) or a file. A terminal does not, nor does /dev/null (a cron job, nohup, a
 * service): those follow the agent.
 */
function stdinIsData(): boolean {
  try {
    const stats = fstatSync(0);
    return stats.isFIFO() || stats.isSocket() || stats.isFile();
  } catch {
    return false;
  }
}
