import type { StatsSummary } from '@proctrail/schema';
import type { TimeRange } from './types';

/** One node's events in a range, as a store counts them: times in the sortable form. */
export interface NodeEventSpan {
  node: string;
  events: number;
  firstTime: string | null;
  lastTime: string | null;
}

const MINUTE_MS = 60_000;

/**
 * The Overview's fleet table from what a store counted per node. The rate is over the range
 * asked for; an open end of the range is the node's own first or last event, so a node that
 * sent everything in one burst is not averaged over the years before it existed. Spans under
 * a minute count as a minute: a rate of events per minute over one second means nothing.
 */
export function nodeActivity(
  spans: readonly NodeEventSpan[],
  range: TimeRange = {},
): StatsSummary['byNode'] {
  return spans.map((span) => {
    const fromMs = msOf(range.since) ?? msOf(span.firstTime);
    const toMs = msOf(range.until) ?? msOf(span.lastTime);
    const minutes =
      fromMs === undefined || toMs === undefined ? 1 : Math.max(1, (toMs - fromMs) / MINUTE_MS);
    return {
      node: span.node,
      events: span.events,
      lastEventTime: span.lastTime,
      eventsPerMinute: Math.round((span.events / minutes) * 100) / 100,
    };
  });
}

function msOf(time: string | null | undefined): number | undefined {
  if (!time) return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}
