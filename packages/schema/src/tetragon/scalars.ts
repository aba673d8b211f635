import { z } from 'zod';

/**
 * Scalars as Go's protojson writes them. Keep in sync with Tetragon's encoder: 32-bit integers
 * are JSON numbers, 64-bit integers are JSON strings (socket cookies exceed 2^53, so they stay
 * strings here and are never turned into numbers), timestamps are RFC 3339.
 */

export const uint32 = z.number().int().min(0).max(0xffff_ffff);
export const int32 = z.number().int().min(-0x8000_0000).max(0x7fff_ffff);

/** A 64-bit integer: protojson writes a string, but reads a number too. Kept as a string. */
export const int64 = z
  .union([
    z.string().regex(/^-?\d+$/, 'expected a 64-bit integer as a string of digits'),
    z.number().int(),
  ])
  .transform((v) => String(v));

/** RFC 3339 with 0 to 9 fractional digits and a Z or numeric offset. */
export const RFC3339 =
  /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether `text` is RFC 3339 and names a real moment: the pattern alone would let
 * "2024-13-45T99:99:99Z" through, and that string would sort among real times. Checked with
 * arithmetic rather than a Date round trip: every imported event carries several timestamps,
 * and the round trip was a tenth of the import's time.
 */
export function isRfc3339(text: string): boolean {
  return matchRfc3339(text) !== null;
}

/** RFC3339's match of `text` when it names a real moment (see isRfc3339), else null. */
export function matchRfc3339(text: string): RegExpExecArray | null {
  const match = RFC3339.exec(text);
  return match !== null && isRealMoment(match[1]!, match[2]!) ? match : null;
}

/** `date` is YYYY-MM-DD and `clock` HH:MM:SS, both already matched by RFC3339. */
function isRealMoment(date: string, clock: string): boolean {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const day = Number(date.slice(8, 10));
  if (month < 1 || month > 12 || day < 1) return false;
  if (Number(clock.slice(0, 2)) > 23 || Number(clock.slice(3, 5)) > 59) return false;
  if (Number(clock.slice(6, 8)) > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

export const timestamp = z.string().refine(isRfc3339, 'expected an RFC 3339 timestamp');
