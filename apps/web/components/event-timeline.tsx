'use client';

import { useQuery } from '@tanstack/react-query';
import { compactLine } from '@proctrail/schema';
import { useTRPC } from '../state/trpc';

/** Every stored event of one exec_id, in order, as compact lines (text only). */
export function EventTimeline({ execId, source }: { execId: string; source?: string }) {
  const trpc = useTRPC();
  const events = useQuery(trpc.event.list.queryOptions({ execId, source, limit: 500 }));
  if (events.isLoading) return <p className="muted">Loading events…</p>;
  if (events.error) return <p className="error">Events: {events.error.message}</p>;
  const items = events.data?.items ?? [];
  return (
    <section>
      <h3>
        Events of this process ({items.length}
        {events.data?.nextCursor !== null ? ', first 500' : ''})
      </h3>
      <ol className="timeline mono" data-testid="timeline">
        {items.map((e) => (
          <li key={e.id} title={e.time ?? ''}>
            <span className="muted">{e.time?.slice(11, 23) ?? '—'} </span>
            {compactLine(e.event)}
          </li>
        ))}
      </ol>
    </section>
  );
}
