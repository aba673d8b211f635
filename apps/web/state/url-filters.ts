import { EVENT_KINDS, type EventKind, type ProcessFilters } from '@proctrail/schema';

/**
 * Every view keeps its state in the URL, so a copied address reopens the same view. These are
 * the process filters as query parameters, read back leniently: a malformed number is dropped
 * rather than breaking the page.
 */
export const TEXT_FILTERS = [
  'binary',
  'args',
  'execId',
  'node',
  'namespace',
  'pod',
  'container',
  'workload',
  'ip',
  'path',
  'since',
  'until',
  'source',
] as const;

export const NUMBER_FILTERS = ['pid', 'port'] as const;

export type FilterName = (typeof TEXT_FILTERS)[number] | (typeof NUMBER_FILTERS)[number];

export type UrlFilters = Omit<ProcessFilters, 'limit'>;

type Params = { get(name: string): string | null };

export function filtersFromParams(params: Params): UrlFilters {
  const filters: Record<string, string | number> = {};
  for (const name of TEXT_FILTERS) {
    const value = params.get(name)?.trim();
    if (value) filters[name] = value;
  }
  for (const name of NUMBER_FILTERS) {
    const value = Number(params.get(name) ?? '');
    if (params.get(name) && Number.isInteger(value) && value >= 0) filters[name] = value;
  }
  return filters as UrlFilters;
}

export function kindsFromParams(params: Params): EventKind[] {
  const known = new Set<string>(EVENT_KINDS);
  return (params.get('kinds') ?? '')
    .split(',')
    .filter((kind): kind is EventKind => known.has(kind));
}

/** Query parameters for filters (and any extra state), without empty values. */
export function paramsOf(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The address of one process's page. */
export function processHref(execId: string, source?: string): string {
  return `/process${paramsOf({ execId, source })}`;
}

/** A relative time range ("1h", "24h", "7d") as an RFC 3339 `since`; undefined for "all". */
export function sinceOfRange(range: string, nowMs: number): string | undefined {
  const match = /^(\d+)([mhd])$/.exec(range);
  if (!match) return undefined;
  const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return new Date(nowMs - Number(match[1]) * unitMs).toISOString();
}
