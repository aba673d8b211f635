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

export const timestamp = z.string().regex(RFC3339, 'expected an RFC 3339 timestamp');
