/**
 * The live tail's bookkeeping, apart from React: a bounded list of the newest events and the
 * arrival rate over the last second.
 */

/** Appends `added` and keeps the newest `capacity` items (oldest dropped first). */
export function appendBounded<T>(items: readonly T[], added: readonly T[], capacity: number): T[] {
  if (added.length >= capacity) return added.slice(added.length - capacity);
  const keep = Math.max(0, items.length + added.length - capacity);
  return keep > 0 ? [...items.slice(keep), ...added] : [...items, ...added];
}

/** Arrivals per second over a sliding window of `windowMs`. */
export class RateMeter {
  private readonly stamps: number[] = [];
  private head = 0;

  constructor(private readonly windowMs = 1_000) {}

  record(count: number, nowMs: number): void {
    for (let i = 0; i < count; i++) this.stamps.push(nowMs);
  }

  perSecond(nowMs: number): number {
    while (this.head < this.stamps.length && this.stamps[this.head]! <= nowMs - this.windowMs) {
      this.head++;
    }
    // Compact now and then so the array does not grow for ever.
    if (this.head > 4096) {
      this.stamps.splice(0, this.head);
      this.head = 0;
    }
    return ((this.stamps.length - this.head) * 1_000) / this.windowMs;
  }
}

/** The rows of a fixed-height virtual list that are visible, with a few spare on each side. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  total: number,
  overscan = 10,
): { first: number; last: number } {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, last };
}
