import type { Command } from 'commander';
import { Detector } from '../detection/detector';
import { DetectionEngine } from '../detection/engine';
import { formatProblem, loadRulesDir } from '../detection/load-rules';
import { importInputs, skippedCount, type ImportSummary } from '../import/importer';
import { InputError } from '../import/read-input';
import { loadVulnerabilityRules } from '../inventory/vulnerability-rules';
import { vulnerableLoadFinder } from '../inventory/vulnerable-loads';
import type { Store } from '../store/types';
import { addDatabaseOption, openStore } from './options';
import { terminalSafe } from './terminal-text';

/** Exit codes: everything imported; some lines skipped; an input could not be read at all. */
const EXIT_OK = 0;
const EXIT_UNREADABLE = 1;
const EXIT_SKIPPED = 2;

export function registerImportCommand(program: Command): void {
  addDatabaseOption(
    program
      .command('import')
      .description(
        'load Tetragon JSON exports (JSON lines, a JSON object or array, .gz, or - for stdin)',
      )
      .argument('<inputs...>', 'files to import, or - for standard input')
      .option(
        '--source <name>',
        'keep these events apart under this name (two hosts with the same node name)',
        'import',
      )
      .option('--rules <dir>', 'detection rules folder (default: the built-in rules)')
      .option('--no-detections', 'do not run detection rules over the imported events')
      .option(
        '--vulnerabilities <dir>',
        'vulnerable-version rules folder for library loads (default: the built-in rules)',
      )
      .option('--json', 'print the summary as JSON'),
  ).action(async (inputs: string[], options) => {
    process.exitCode = await runImport(inputs, options);
  });
}

async function runImport(
  inputs: string[],
  options: {
    db?: string;
    store?: string;
    source: string;
    json?: boolean;
    rules?: string;
    detections: boolean;
    vulnerabilities?: string;
  },
): Promise<number> {
  const store = await openStore(options);
  try {
    const source = await store.source(options.source, 'import');
    const detector = options.detections
      ? detectorFor(store, options.rules, options.vulnerabilities)
      : undefined;
    const summary = await importInputs(store, source, inputs, undefined, detector);
    const counts = await store.counts();
    if (options.json) console.log(JSON.stringify({ ...summary, database: counts }, null, 2));
    else printSummary(summary, counts);
    return skippedCount(summary) ? EXIT_SKIPPED : EXIT_OK;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(`proctrail import: cannot read ${error.message}`);
    return EXIT_UNREADABLE;
  } finally {
    await store.close();
  }
}

function detectorFor(
  store: Store,
  rulesDir: string | undefined,
  vulnerabilitiesDir: string | undefined,
): Detector {
  const loaded = loadRulesDir(rulesDir);
  const vulnerabilities = loadVulnerabilityRules(vulnerabilitiesDir);
  for (const problem of [...loaded.problems, ...vulnerabilities.problems]) {
    console.error(`proctrail import: rule skipped: ${formatProblem(problem)}`);
  }
  return new Detector(new DetectionEngine(loaded.rules), store, {
    alsoFind: vulnerabilities.rules.length
      ? vulnerableLoadFinder(vulnerabilities.rules)
      : undefined,
  });
}

/** "detections: 3 (late-exec: 2, shell-in-workload: 1)". */
export function detectionsLine(byRule: Record<string, number>): string {
  const entries = Object.entries(byRule).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  const list = entries.map(([rule, n]) => `${rule}: ${n}`).join(', ');
  return `detections: ${total}${list ? ` (${list})` : ''}`;
}

function printSummary(
  summary: ImportSummary,
  counts: { executions: number; placeholders: number; events: number },
): void {
  for (const line of summary.skipped) {
    const field = line.field ? ` (field ${line.field})` : '';
    console.error(
      `skipped ${terminalSafe(line.input)}:${line.line}${field}: ${terminalSafe(line.reason)}`,
    );
  }
  if (summary.skippedNotListed)
    console.error(`... and ${summary.skippedNotListed} more skipped lines`);

  const kinds = Object.entries(summary.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  console.log(`imported ${summary.stored} events (${kinds || 'none'})`);
  if (summary.duplicates) console.log(`already stored, not repeated: ${summary.duplicates} events`);
  console.log(`skipped ${skippedCount(summary)} of ${summary.read} lines`);
  console.log(
    `database: ${counts.executions} processes, ${counts.placeholders} placeholders ` +
      `(known only from their children), ${counts.events} events`,
  );
  console.log(detectionsLine(summary.detections));
  if (summary.unattributed > 0) {
    console.log(`unattributed: ${summary.unattributed} events name a process without an exec_id`);
  }
  if (summary.collisions.length) {
    console.log(
      `warning: ${summary.collisions.length} exec_ids were named by two different exec events ` +
        '(two hosts with the same node name, or a reboot): import each host with its own --source',
    );
  }
}
