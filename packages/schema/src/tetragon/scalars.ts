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

/**
 * Whether `text` is RFC 3339 and names a real moment: the pattern alone would let
 * "2024-13-45T99:99:99Z" through, and that string would sort among real times.
 */
export function isRfc3339(text: string): boolean {
  const match = RFC3339.exec(text);
  if (!match) return false;
  const [, date, clock] = match;
  const ms = Date.parse(`${date}T${clock}Z`);
  // Date.parse rolls some impossible dates over (Feb 30 -> Mar 1); a real one reads back the same.
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === `${date}T${clock}`;
}

export const timestamp = z.string().refine(isRfc3339, 'expected an RFC 3339 timestamp');
