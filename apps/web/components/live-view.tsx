'use client';

import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { compactLine, type ApiEvent } from '@proctrail/schema';
import { appendBounded, RateMeter, visibleRange } from '../graph/live-window';
import { useTRPC, useTRPCClient } from '../state/trpc';
import { filtersFromParams, kindsFromParams } from '../state/url-filters';
import { FilterForm } from './filter-form';
import { useUrlState } from './use-url-state';

/** Rows kept on the page; older ones scroll away for good (the database keeps them). */
const CAPACITY = 10_000;
const ROW_HEIGHT = 20;
/** Arrivals are drawn in batches: ten renders a second at most, whatever the event rate. */
const FLUSH_MS = 100;

/** compactLine parses the event; it is computed only for rows on screen, once per event. */
const lines = new WeakMap<ApiEvent, string>();
function lineOf(event: ApiEvent): string {
  let line = lines.get(event);
  if (line === undefined) {
    line = compactLine(event.event);
    lines.set(event, line);
  }
  return line;
}

type Status = { state: 'connecting' | 'live' | 'error'; message?: string };

function LostBanner() {
  const trpc = useTRPC();
  const stats = useQuery({ ...trpc.stats.summary.queryOptions(), refetchInterval: 5_000 });
  const lost = stats.data?.lost;
  if (!lost || lost.total === 0) return null;
  const reasons = Object.entries(lost.byReason)
    .map(([reason, count]) => `${reason}: ${count}`)
    .join(', ');
  return (
    <div className="banner" role="alert" data-testid="lost-banner">
      The sensor lost {lost.total.toLocaleString('en-US')} events ({reasons}): the tail and the
      database miss them.
    </div>
  );
}

/**
 * The live tail: events as they are stored, filterable (filters and kinds in the URL), pausable,
 * with the arrival rate. The list is virtual: only the rows on screen exist in the DOM.
 */
export function LiveView() {
  const { params, push, update } = useUrlState();
  const client = useTRPCClient();
  const filters = filtersFromParams(params);
  const kinds = kindsFromParams(params);
  const paused = params.get('paused') === '1';
  const filterKey = JSON.stringify([filters, kinds]);

  const [rows, setRows] = useState<ApiEvent[]>([]);
  const [status, setStatus] = useState<Status>({ state: 'connecting' });
  const [rate, setRate] = useState(0);
  const [waiting, setWaiting] = useState(0);
  const [scroll, setScroll] = useState({ top: 0, height: 600 });
  // Bumped to subscribe again after the agent dropped this page for falling behind.
  const [attempt, setAttempt] = useState(0);
  const [skippedAt, setSkippedAt] = useState<string | null>(null);
  const rowsFilterKey = useRef(filterKey);
  const pending = useRef<ApiEvent[]>([]);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const follow = useRef(true);
  const list = useRef<HTMLDivElement>(null);

  // One subscription per filter set; tRPC resumes after the last id on reconnects.
  useEffect(() => {
    const [subscribed, subscribedKinds] = JSON.parse(filterKey) as [typeof filters, typeof kinds];
    if (rowsFilterKey.current !== filterKey) {
      rowsFilterKey.current = filterKey;
      setRows([]);
      setSkippedAt(null);
      pending.current = [];
    }
    setStatus({ state: 'connecting' });
    const subscription = client.event.live.subscribe(
      { ...subscribed, ...(subscribedKinds.length ? { kinds: subscribedKinds } : {}) },
      {
        onStarted: () => setStatus({ state: 'live' }),
        onData: (data) => {
          pending.current.push(data.data as ApiEvent);
          if (pending.current.length > CAPACITY)
            pending.current.splice(0, pending.current.length - CAPACITY);
        },
        onError: (error) => {
          // The agent drops a subscriber that falls too far behind rather than wait for it.
          // A tail is for what happens now: subscribe again from the newest event (the
          // database keeps what was skipped) and say so, instead of stopping.
          if (error.message.startsWith('SLOW_CONSUMER')) {
            setSkippedAt(new Date().toISOString().slice(11, 19));
            setAttempt((n) => n + 1);
          } else {
            setStatus({ state: 'error', message: error.message });
          }
        },
      },
    );
    return () => subscription.unsubscribe();
  }, [client, filterKey, attempt]);

  // Batches arrivals into the list and measures the rate.
  useEffect(() => {
    const meter = new RateMeter();
    const timer = setInterval(() => {
      const now = performance.now();
      const arrived = pending.current;
      if (!pausedRef.current && arrived.length > 0) {
        pending.current = [];
        meter.record(arrived.length, now);
        setRows((current) => appendBounded(current, arrived, CAPACITY));
      }
      setWaiting(pausedRef.current ? pending.current.length : 0);
      setRate(meter.perSecond(now));
    }, FLUSH_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    const element = list.current;
    if (element) setScroll({ top: element.scrollTop, height: element.clientHeight });
  }, []);

  // Follow the tail unless the reader scrolled up.
  useEffect(() => {
    const element = list.current;
    if (element && follow.current) element.scrollTop = element.scrollHeight;
  }, [rows]);

  const onScroll = () => {
    const element = list.current!;
    follow.current =
      element.scrollTop + element.clientHeight >= element.scrollHeight - ROW_HEIGHT * 2;
    setScroll({ top: element.scrollTop, height: element.clientHeight });
  };

  const { first, last } = visibleRange(scroll.top, scroll.height, ROW_HEIGHT, rows.length);
  const visible = useMemo(() => rows.slice(first, last), [rows, first, last]);

  const applyFilters = (values: Record<string, string>) => push({ ...values });
  const [kindsText, setKindsText] = useState(kinds.join(','));
  const applyKinds = (event: FormEvent) => {
    event.preventDefault();
    push({ kinds: kindsText.replace(/\s+/g, '') || null });
  };

  return (
    <section>
      <h1>Live</h1>
      <LostBanner />
      {skippedAt && (
        <div className="banner" role="status" data-testid="skipped-banner">
          The page fell behind the agent at {skippedAt} UTC and skipped ahead to the newest events;
          Search has every event.
        </div>
      )}
      <FilterForm
        key={filterKey}
        initial={filters}
        onSubmit={applyFilters}
        fields={[
          'binary',
          'args',
          'pid',
          'execId',
          'node',
          'namespace',
          'pod',
          'container',
          'workload',
          'ip',
          'port',
          'path',
        ]}
        submitLabel="Filter"
      />
      <form onSubmit={applyKinds} className="toolbar">
        <label>
          kinds{' '}
          <input
            value={kindsText}
            placeholder="process_exec,process_exit,process_kprobe"
            onChange={(event) => setKindsText(event.target.value)}
            size={48}
          />
        </label>
        <button type="submit">Apply kinds</button>
      </form>
      <div className="toolbar">
        <button
          type="button"
          aria-pressed={paused}
          onClick={() => update({ paused: paused ? null : '1' })}
          data-testid="pause"
        >
          {paused ? '▶ Resume' : '⏸ Pause'}
        </button>
        <button type="button" onClick={() => setRows([])}>
          Clear
        </button>
        <span data-testid="live-status" data-state={status.state}>
          {status.state === 'live'
            ? '● live'
            : status.state === 'connecting'
              ? '○ connecting…'
              : `✕ ${status.message ?? 'error'}`}
        </span>
        <span className="muted" data-testid="live-rate">
          {Math.round(rate).toLocaleString('en-US')} events/s ·{' '}
          {rows.length.toLocaleString('en-US')} shown
          {paused && ` · paused, ${waiting.toLocaleString('en-US')} waiting`}
        </span>
      </div>
      <div className="live-list mono" ref={list} onScroll={onScroll} data-testid="live-list">
        <div style={{ height: rows.length * ROW_HEIGHT, position: 'relative' }}>
          {visible.map((event, i) => (
            <div
              key={event.id}
              className="live-row"
              style={{ top: (first + i) * ROW_HEIGHT }}
              data-testid="live-row"
              title={event.time ?? ''}
            >
              <span className="muted">{event.time?.slice(11, 23) ?? '—'} </span>
              {lineOf(event)}
            </div>
          ))}
        </div>
      </div>
    </section>
  );
}
