import type { IngestItem } from '../store/types';
import type { PolicySummary } from './compile';
import { ENFORCEMENT_TAG } from './enforcement-event';

/** A loaded policy and what it has done since the agent started. */
export interface PolicyStatus extends PolicySummary {
  /** Processes killed or connects refused. */
  blocked: number;
  /** Enforcements recorded without blocking: dry runs and alerts. */
  reported: number;
}

/** Told about each enforcement event built: metrics. */
export type EnforcementListener = (policy: string, action: string, outcome: string) => void;

/**
 * The policies the agent enforces, for the API (policy.list) and the metrics: it counts the
 * enforcement events as they are built, before they are stored.
 */
export class PolicyRegistry {
  readonly #statuses: PolicyStatus[];
  readonly #byName: Map<string, PolicyStatus>;

  constructor(
    summaries: readonly PolicySummary[],
    private readonly onEnforcement?: EnforcementListener,
  ) {
    this.#statuses = summaries.map((summary) => ({ ...summary, blocked: 0, reported: 0 }));
    this.#byName = new Map(this.#statuses.map((status) => [status.name, status]));
  }

  list(): PolicyStatus[] {
    return this.#statuses.map((status) => ({ ...status }));
  }

  /** Counts the enforcement events among `items` (cheap for the others: one tag check). */
  count(items: readonly IngestItem[]): void {
    for (const item of items) {
      if (item.parsed.kind !== 'process_kprobe') continue;
      const body = item.parsed.body as { tags?: string[]; policy_name?: string; action?: string };
      if (!body.tags?.includes(ENFORCEMENT_TAG) || !body.policy_name) continue;
      const outcome = body.tags[1] ?? 'blocked';
      const status = this.#byName.get(body.policy_name);
      if (status) {
        if (outcome === 'blocked') status.blocked++;
        else status.reported++;
      }
      this.onEnforcement?.(body.policy_name, body.action ?? '', outcome);
    }
  }
}
