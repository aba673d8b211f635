import type { z } from 'zod';
import {
  EVENT_KINDS,
  envelopeSchema,
  eventBodySchemas,
  type Envelope,
  type EventBody,
  type EventKind,
  type TetragonEvent,
} from './events';

const ENVELOPE_KEYS = new Set([
  'node_name',
  'time',
  'cluster_name',
  'node_labels',
  'aggregation_info',
]);
const KNOWN_KINDS = new Set<string>(EVENT_KINDS);

/** A validated event: its kind, its envelope and its body, and the whole object. */
export interface ParsedEvent<K extends EventKind = EventKind> {
  kind: K;
  envelope: Envelope;
  body: EventBody<K>;
  event: TetragonEvent;
}

/** Why a value is not a Tetragon event; `field` is a dotted path such as `process_exec.process.pid`. */
export interface EventFormatProblem {
  field?: string;
  reason: string;
}

export type ParseOutcome =
  { ok: true; parsed: ParsedEvent } | { ok: false; problem: EventFormatProblem };

/**
 * Validates one decoded JSON value as a Tetragon event. Unknown fields are dropped, as
 * protojson readers do; a known field of the wrong type is a problem naming that field.
 * Returns rather than throws: importers meet bad lines often and keep going.
 */
export function parseTetragonEvent(value: unknown): ParseOutcome {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(undefined, `expected a JSON object, got ${describe(value)}`);
  }

  const kinds = Object.keys(value).filter((key) => !ENVELOPE_KEYS.has(key));
  const known = kinds.filter((key) => KNOWN_KINDS.has(key)) as EventKind[];
  if (known.length === 0) {
    const found = kinds.length ? `found only ${kinds.join(', ')}` : 'found no event key';
    return fail(undefined, `not a Tetragon event: ${found}`);
  }
  if (known.length > 1) return fail(undefined, `more than one event kind: ${known.join(', ')}`);

  const kind = known[0]!;
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) return fromZod(envelope.error);
  const body = (eventBodySchemas[kind] as z.ZodType).safeParse(
    (value as Record<string, unknown>)[kind],
  );
  if (!body.success) return fromZod(body.error, kind);

  const event = { ...envelope.data, [kind]: body.data } as TetragonEvent;
  return {
    ok: true,
    parsed: { kind, envelope: envelope.data, body: body.data as EventBody, event },
  };
}

/** Parses a JSON text holding one event. */
export function parseTetragonJson(text: string): ParseOutcome {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(undefined, `not JSON: ${(error as Error).message}`);
  }
  return parseTetragonEvent(value);
}

function fromZod(error: z.ZodError, prefix?: string): ParseOutcome {
  const issue = error.issues[0]!;
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
  return fail(path.join('.') || undefined, issue.message);
}

function fail(field: string | undefined, reason: string): ParseOutcome {
  return { ok: false, problem: field ? { field, reason } : { reason } };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
