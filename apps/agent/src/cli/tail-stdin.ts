import { eventTimeOf, parseTetragonEvent, type ValidEventFilters } from '@proctrail/schema';
import { readInput } from '../import/read-input';
import { eventMatcher, LiveEvent } from '../live/event-match';
import { tailLine, type TailFormat } from './tail-output';
import { terminalSafe } from './terminal-text';

/**
 * Prints the events of Tetragon JSON lines on standard input, like `tetra getevents` reading
 * an export: the same filters as the live tail, matched the same way. A line that is not an
 * event is reported on standard error and skipped. Returns how many events were printed.
 */
export async function tailStdin(
  filters: ValidEventFilters,
  format: TailFormat,
  maxEvents: number | undefined,
): Promise<number> {
  const match = eventMatcher(filters);
  let printed = 0;
  for await (const record of readInput('-')) {
    if ('error' in record) {
      console.error(`proctrail tail: line ${record.line}: ${terminalSafe(record.error)}`);
      continue;
    }
    const outcome = parseTetragonEvent(record.value);
    if (!outcome.ok) {
      const { field, reason } = outcome.problem;
      const where = field ? `${field}: ` : '';
      console.error(`proctrail tail: line ${record.line}: ${terminalSafe(where + reason)}`);
      continue;
    }
    const { parsed } = outcome;
    const process = (parsed.body as { process?: { exec_id?: string } }).process;
    const event = new LiveEvent(
      {
        id: record.line,
        sourceId: 0,
        kind: parsed.kind,
        time: eventTimeOf(parsed) ?? null,
        execId: process?.exec_id ?? null,
        nodeName: parsed.envelope.node_name ?? null,
        json: '',
      },
      record.value as Record<string, unknown>,
    );
    if (!match(event)) continue;
    console.log(tailLine(record.value, format));
    printed++;
    if (maxEvents !== undefined && printed >= maxEvents) break;
  }
  return printed;
}
