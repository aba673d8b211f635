import { matchRfc3339 } from './scalars';

/**
 * Turns an RFC 3339 timestamp into the fixed-width UTC form `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
 * Strings of that form sort in time order and keep all nine fractional digits, which a
 * JavaScript Date (milliseconds) or a double of nanoseconds (2^53 ns is 104 days) would lose.
 * Returns undefined when the text is not RFC 3339.
 */
export function toSortableTime(text: string): string | undefined {
  const match = matchRfc3339(text);
  if (!match) return undefined;
  const [, date, clock, fraction = '', zone] = match;
  // Already in the sortable form, as Tetragon and the agent write times: nothing to rebuild.
  if (zone === 'Z' && fraction.length === 9 && text[10] === 'T') return text;
  const nanos = fraction.padEnd(9, '0');
  if (zone!.toUpperCase() === 'Z') return `${date}T${clock}.${nanos}Z`;

  const utcMs = Date.parse(`${date}T${clock}${zone}`);
  if (Number.isNaN(utcMs)) return undefined;
  return `${new Date(utcMs).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** Nanoseconds since the Unix epoch as a bigint, from the sortable form or any RFC 3339 text. */
export function timeToEpochNs(text: string): bigint | undefined {
  const sortable = toSortableTime(text);
  if (!sortable) return undefined;
  const seconds = BigInt(Date.parse(`${sortable.slice(0, 19)}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt(sortable.slice(20, 29));
}

/** The inverse of timeToEpochNs: the sortable RFC 3339 form of epoch nanoseconds. */
export function epochNsToTime(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const nanos = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${nanos}Z`;
}
