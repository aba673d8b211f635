import { compactLine } from '@proctrail/schema';

export type TailFormat = 'compact' | 'json';

/** One output line for an event given as decoded JSON: compact text, or the JSON itself. */
export function tailLine(event: unknown, format: TailFormat): string {
  return format === 'json' ? JSON.stringify(event) : compactLine(event);
}
