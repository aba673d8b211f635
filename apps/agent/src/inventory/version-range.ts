/**
 * Versions as libraries write them ("2.14.1", "2.0-beta9", "1.1.1w", "3.0.2-SNAPSHOT") and
 * ranges over them ("< 2.17.1", ">= 2.0-beta9, < 2.17.1"). Ordering follows Maven's spirit:
 * numbers compare as numbers, a pre-release qualifier (alpha, beta, rc, ...) comes before the
 * release it qualifies, anything else after it.
 */

type Token = number | string;

/** Qualifiers that come before the release, in order; "" is the release itself. */
const PRE_RELEASE = ['alpha', 'a', 'beta', 'b', 'milestone', 'm', 'rc', 'cr', 'snapshot', 'pre'];
const RELEASE_ALIASES = new Set(['', 'final', 'ga', 'release']);

function tokens(version: string): Token[] {
  const out: Token[] = [];
  for (const part of version.toLowerCase().match(/\d+|[a-z]+/g) ?? []) {
    out.push(/^\d/.test(part) ? Number(part) : part);
  }
  // Trailing zeros and release aliases say nothing: 2.0 = 2.0.0 = 2.0.final.
  while (out.length) {
    const last = out[out.length - 1]!;
    if (last === 0 || (typeof last === 'string' && RELEASE_ALIASES.has(last))) out.pop();
    else break;
  }
  return out;
}

/** Where a qualifier sorts against the release (0): below for pre-releases, above otherwise. */
function qualifierRank(text: string): number {
  if (RELEASE_ALIASES.has(text)) return 0;
  const pre = PRE_RELEASE.indexOf(text);
  return pre >= 0 ? pre - PRE_RELEASE.length : 1;
}

function compareTokens(a: Token | undefined, b: Token | undefined): number {
  // A missing part against a number is a zero: 2 = 2.0, and 2.0-rc1 still comes before 2.
  if (typeof a === 'number' && (typeof b === 'number' || b === undefined)) {
    return Math.sign(a - (b ?? 0));
  }
  if (typeof b === 'number' && a === undefined) return Math.sign(0 - b);
  if (typeof a === 'number') return 1; // a number beats a qualifier: 2.0.1 > 2.0-rc1
  if (typeof b === 'number') return -1;
  const rankA = qualifierRank(a ?? '');
  const rankB = qualifierRank(b ?? '');
  if (rankA !== rankB) return Math.sign(rankA - rankB);
  return (a ?? '').localeCompare(b ?? '');
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b`. */
export function compareVersions(a: string, b: string): number {
  const left = tokens(a);
  const right = tokens(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const order = compareTokens(left[i], right[i]);
    if (order !== 0) return order;
  }
  return 0;
}

const OPERATORS = {
  '<': (order: number) => order < 0,
  '<=': (order: number) => order <= 0,
  '>': (order: number) => order > 0,
  '>=': (order: number) => order >= 0,
  '=': (order: number) => order === 0,
} as const;

type Operator = keyof typeof OPERATORS;

export interface VersionRange {
  /** The range as written. */
  text: string;
  includes(version: string): boolean;
}

const COMPARATOR = /^(<=|>=|<|>|=)\s*([0-9][0-9A-Za-z.+_-]*)$/;

/**
 * Parses comparators joined by commas, all of which must hold: "< 2.17.1",
 * ">= 2.0-beta9, < 2.17.1". Throws a RangeError naming the comparator that does not parse.
 */
export function parseVersionRange(text: string): VersionRange {
  const parts = text.split(',').map((part) => part.trim());
  const comparators = parts.map((part) => {
    const found = COMPARATOR.exec(part);
    if (!found) {
      throw new RangeError(
        `${JSON.stringify(part)} is not a comparator such as "< 2.17.1" (one of <, <=, >, >=, = and a version)`,
      );
    }
    return { test: OPERATORS[found[1] as Operator], version: found[2]! };
  });
  return {
    text,
    includes: (version) =>
      comparators.every(({ test, version: bound }) => test(compareVersions(version, bound))),
  };
}
