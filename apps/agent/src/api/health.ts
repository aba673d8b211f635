import type { WriteBacklog } from '../pipeline/write-queue';
import type { Store } from '../store/types';

export interface Health {
  ok: boolean;
  store: { reachable: boolean; error?: string };
  uptimeSeconds: number;
  /** Only for requests that carry the token when one is set: it tells when the host was busy. */
  lastEventTime?: string | null;
  /**
   * An agent's events waiting for the store and those it dropped. The store's error is told
   * only with the token: it may name the database's host.
   */
  backlog?: WriteBacklog;
}

/** Whether the server can answer queries: the store answers a one-row query. */
export async function healthOf(
  store: Store,
  startedAtMs: number,
  detailed: boolean,
  backlog?: WriteBacklog,
) {
  const health: Health = {
    ok: true,
    store: { reachable: true },
    uptimeSeconds: Math.round((Date.now() - startedAtMs) / 1000),
  };
  if (backlog) {
    const { lastError, ...counts } = backlog;
    health.backlog = detailed && lastError ? { ...counts, lastError } : counts;
  }
  try {
    const last = await store.lastEvent();
    if (detailed) health.lastEventTime = last?.time ?? null;
  } catch (error) {
    health.ok = false;
    health.store = { reachable: false, error: (error as Error).message };
  }
  return health;
}
