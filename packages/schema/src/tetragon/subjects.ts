import type { EventBody } from './events';
import type { ParsedEvent } from './parse';
import type { TetragonProcess } from './process';
import { toSortableTime } from './time';

/** The processes an event names: the one it is about, its parent, and its other ancestors. */
export interface EventSubjects {
  process?: TetragonProcess;
  parent?: TetragonProcess;
  ancestors: TetragonProcess[];
}

export function subjectsOf(parsed: ParsedEvent): EventSubjects {
  const body = parsed.body as Partial<EventBody<'process_exec'>>;
  const subjects: EventSubjects = { ancestors: body.ancestors ?? [] };
  if (body.process) subjects.process = body.process;
  if (body.parent) subjects.parent = body.parent;
  return subjects;
}

/**
 * When an event happened, in the sortable form of toSortableTime. The envelope's `time` is
 * the rule; some exports omit it, and then an exit's own time or an exec's process start time
 * is the best there is.
 */
export function eventTimeOf(parsed: ParsedEvent): string | undefined {
  const body = parsed.body as { time?: string; process?: TetragonProcess };
  const text =
    parsed.envelope.time ??
    body.time ??
    (parsed.kind === 'process_exec' ? body.process?.start_time : undefined);
  return text === undefined ? undefined : toSortableTime(text);
}
