import { compactLine, type Detection } from '@proctrail/schema';

export type TailFormat = 'compact' | 'json';

/** One output line for an event given as decoded JSON: compact text, or the JSON itself. */
export function tailLine(event: unknown, format: TailFormat): string {
  return format === 'json' ? JSON.stringify(event) : compactLine(event);
}

/** The line `proctrail tail` prints for a detection, between the events. */
export function detectionLine(detection: Detection, format: TailFormat): string {
  if (format === 'json') return JSON.stringify({ detection });
  const pid = detection.pid === undefined ? '' : ` pid ${detection.pid}`;
  return (
    `🚨 detection ${detection.severity} ${detection.title} ${detection.binary ?? '?'}${pid} ` +
    `[${detection.rule}] ${detection.explanation}`
  );
}
