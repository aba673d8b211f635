import { InvalidArgumentError } from 'commander';

const DURATION_UNITS_MS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** "90m", "12h", "30d", "2w" -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([mhdw])$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError('expected a duration such as 90m, 12h, 30d or 2w');
  return Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
}

const SIZE_UNITS: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "500MB", "10GB", "1.5GiB" -> bytes. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b)$/i.exec(text.trim());
  if (!match) throw new InvalidArgumentError('expected a size such as 500MB or 10GB');
  return Math.round(Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!);
}
